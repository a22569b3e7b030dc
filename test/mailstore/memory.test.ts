// Runs the MailStore contract against the in-memory double.
import { createMemoryMailStore } from '../../src/mailstore/memory.ts';
import { runMailStoreContract } from './contract.ts';

runMailStoreContract('memory', async () => createMemoryMailStore());
