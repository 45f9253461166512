/**
 * The EC2 query protocol, response side: XML documents shaped as EC2 answers them (element names
 * as in the EC2 API reference: `vpcSet`/`item`, `tagSet`, `instanceState` ...), and EC2's error
 * document `<Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>`.
 */

/** A value to render: text, a nested element map, a list of items (`<item>`), or nothing. */
export type XmlValue = string | number | boolean | undefined | null | XmlNode | readonly XmlValue[];

/** Element name -> value, rendered in insertion order. */
export interface XmlNode {
  readonly [name: string]: XmlValue;
}

const NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';

const escapeXml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function render(value: XmlValue): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map((v) => `<item>${render(v)}</item>`).join('');
  if (typeof value === 'object') {
    return Object.entries(value as XmlNode)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `<${k}>${render(v)}</${k}>`)
      .join('');
  }
  return escapeXml(String(value));
}

/** `<{Action}Response>` with the body and a request id. */
export function responseXml(action: string, body: XmlNode, requestId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${NS}"><requestId>${requestId}</requestId>${render(body)}</${action}Response>`;
}

/** EC2's error document. */
export function errorXml(code: string, message: string, requestId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`;
}

/** A tag map as EC2's `tagSet`. */
export function tagSet(tags: Readonly<Record<string, string>>): XmlNode[] {
  return Object.entries(tags).map(([key, value]) => ({ key, value }));
}
