// The BlockStorage contract on the in-memory double (src/storage/memory.ts).
import test from 'ava';
import { createMemoryStorage } from '../../src/storage/memory.ts';
import { storageContract } from './contract.ts';

storageContract(test, 'memory', async (options) => {
  const storage = createMemoryStorage(options);
  return {
    storage,
    corrupt: async (cid) => storage.corrupt(cid),
    remove: async (cid) => storage.remove(cid),
    cleanup: async () => undefined,
  };
});
