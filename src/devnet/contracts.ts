// The devnet's contracts: one SealpostRegistry that all nodes share
// (deployed by dev account 0) and one SealpostAnchor per node, deployed by
// that node's ledger account (the contract lets only its deployer anchor:
// one contract per ledger). Each is deployed once and remembered in
// devnet.json; on later runs the chain must still hold the code.
import { deployAnchorContract } from '../ledger/evm/anchorer.ts';
import { deployRegistry } from '../registry/evm.ts';
import { devAccount } from './dev-keys.ts';
import { DevnetError } from './errors.ts';
import { chainId as readChainId, hasCode } from './rpc.ts';
import type { DevnetState } from './state.ts';

/**
 * Deploys what devnet.json does not name yet; checks the rest is on chain.
 * Calls `save` after deploying so that a contract is never deployed twice.
 * @throws DevnetError DEVNET_CHAIN_LOST when a recorded contract has no code
 * (the state file was lost) or the chain id changed; ChainError / ContractCompileError from deployment
 */
export async function ensureContracts(state: DevnetState, save: () => Promise<void>, progress: (line: string) => void): Promise<void> {
  const { rpcUrl } = state.chain;
  const id = await readChainId(rpcUrl);
  if (state.chain.chainId !== 0 && state.chain.chainId !== id) {
    throw new DevnetError('DEVNET_CHAIN_LOST', `the chain at ${rpcUrl} is chain ${id}, devnet.json says ${state.chain.chainId}`);
  }
  const recorded = [
    ...(state.chain.registry === '' ? [] : [{ what: 'the registry', address: state.chain.registry }]),
    ...state.nodes.filter((n) => n.ledger.contract !== '').map((n) => ({ what: `node ${n.node}'s anchoring contract`, address: n.ledger.contract })),
  ];
  for (const { what, address } of recorded) {
    if (!(await hasCode(rpcUrl, address))) {
      const where = state.chain.external ? `the chain at ${rpcUrl}` : `the chain in ${state.chain.stateFile}`;
      throw new DevnetError('DEVNET_CHAIN_LOST', `${where} has no code at ${address} (${what}): the chain state was lost or reset; remove the devnet directory to start a new network`);
    }
  }
  const missing = state.nodes.filter((n) => n.ledger.contract === '');
  if (state.chain.registry === '' || missing.length > 0) progress(`Deploying ${[state.chain.registry === '' ? 'the registry' : '', missing.length > 0 ? `${missing.length} anchoring contract${missing.length === 1 ? '' : 's'}` : ''].filter((s) => s !== '').join(' and ')} to chain ${id}...`);
  // Different accounts, so the deployments can go out together.
  const jobs: Array<Promise<void>> = [];
  if (state.chain.registry === '') {
    jobs.push(deployRegistry({ rpcUrl, privateKey: devAccount(state.chain.deployer).privateKey }).then((d) => {
      state.chain.registry = d.address;
    }));
  }
  for (const node of missing) {
    jobs.push(deployAnchorContract({ rpcUrl, privateKey: devAccount(node.ledger.account).privateKey }).then((d) => {
      node.ledger.contract = d.address;
    }));
  }
  const results = await Promise.allSettled(jobs);
  state.chain.chainId = id;
  await save();
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}
