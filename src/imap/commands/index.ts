// The command registry: name -> spec. UID forms ("UID FETCH") resolve to the
// same spec as the plain command when it declares uidForm.
import { append } from './append.ts';
import { capability, id, logout, noop } from './any.ts';
import { check, close, expunge, unselect } from './close.ts';
import { copy, move } from './copy.ts';
import { fetch } from './fetch.ts';
import { idle } from './idle.ts';
import { listCommand, lsubCommand } from './list.ts';
import { authenticate, login } from './login.ts';
import { create, deleteCommand, rename, subscribe, unsubscribe } from './mailboxes.ts';
import { enable, namespace } from './namespace.ts';
import { search } from './search.ts';
import { examineCommand, selectCommand } from './select.ts';
import { starttls } from './starttls.ts';
import { status } from './status.ts';
import { store } from './store.ts';
import type { CommandSpec } from './types.ts';

const ALL: CommandSpec[] = [
  capability, noop, logout, id, starttls, login, authenticate,
  selectCommand, examineCommand, create, deleteCommand, rename, subscribe, unsubscribe,
  listCommand, lsubCommand, status, append, namespace, enable, idle,
  check, close, unselect, expunge, fetch, store, search, copy, move,
];

const REGISTRY = new Map<string, CommandSpec>();
for (const spec of ALL) {
  REGISTRY.set(spec.name, spec);
  if (spec.uidForm) REGISTRY.set(`UID ${spec.name}`, spec);
}

export function findCommand(name: string): CommandSpec | undefined {
  return REGISTRY.get(name);
}
