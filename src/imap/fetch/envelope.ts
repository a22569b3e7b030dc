// FETCH ENVELOPE and BODYSTRUCTURE values (RFC 3501 §7.4.2): the protocol text
// is written by mime/ (so the store can cache it at delivery); this wraps it
// as a response value.
import { bodyStructureText } from '../../mime/bodystructure-text.ts';
import { envelopeText } from '../../mime/envelope-text.ts';
import type { Envelope, MimeNode } from '../../mime/types.ts';
import type { ResponseValue } from '../protocol/types.ts';

export function renderEnvelope(env: Envelope): ResponseValue {
  return { type: 'raw', value: envelopeText(env) };
}

export function renderBodyStructure(node: MimeNode, extended: boolean): ResponseValue {
  return { type: 'raw', value: bodyStructureText(node, extended) };
}
