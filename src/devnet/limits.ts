// How many nodes a devnet may have: kept apart from plan.ts so that the CLI
// can check --nodes without loading the key derivation and its curves.

/** nodes when the first run does not say */
export const DEFAULT_NODES = 5;
/** each node needs two funded dev accounts and five ports */
export const MAX_NODES = 50;
