// The registry's memory double against the shared contract suite.
import test from 'ava';
import { openMemoryRegistry } from '../../src/registry/memory.ts';
import { registryContract } from './contract.ts';

registryContract(test, 'memory', async () => {
  const registry = openMemoryRegistry();
  const others: ReturnType<typeof openMemoryRegistry>[] = [];
  return {
    registry,
    async another() {
      const other = openMemoryRegistry();
      others.push(other);
      return other;
    },
    async cleanup() {
      await registry.close();
      for (const o of others) await o.close();
    },
  };
});
