/** A form found in a page: where it posts and its named inputs. */
export interface ParsedForm {
  action: string;
  method: string;
  fields: Record<string, string>;
}

const ENTITIES: Record<string, string> = {
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&#39;': "'",
};

function decode(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39);/g, (entity) => ENTITIES[entity] ?? entity);
}

function attribute(tag: string, name: string): string | undefined {
  const match = tag.match(new RegExp(`\\s${name}="([^"]*)"`));
  return match?.[1] === undefined ? undefined : decode(match[1]);
}

/**
 * The forms of one of our own pages. A regular-expression reader is enough for markup we
 * generate ourselves; it is not meant for arbitrary HTML.
 */
export function parseForms(html: string): ParsedForm[] {
  const forms: ParsedForm[] = [];
  for (const match of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)) {
    const [, formAttributes = '', inner = ''] = match;
    const fields: Record<string, string> = {};
    for (const input of inner.matchAll(/<input\b[^>]*>/g)) {
      const name = attribute(input[0], 'name');
      if (name !== undefined) fields[name] = attribute(input[0], 'value') ?? '';
    }
    forms.push({
      action: attribute(` ${formAttributes}`, 'action') ?? '',
      method: (attribute(` ${formAttributes}`, 'method') ?? 'get').toLowerCase(),
      fields,
    });
  }
  return forms;
}

/** The first form that posts to a path ending in `actionSuffix`; throws when there is none. */
export function findForm(html: string, actionSuffix: string): ParsedForm {
  const form = parseForms(html).find((candidate) => candidate.action.endsWith(actionSuffix));
  if (!form) throw new Error(`no form posting to …${actionSuffix} in the page:\n${html.slice(0, 2000)}`);
  return form;
}

/** The unescaped value of the hidden input `name` in a page; throws when there is none. */
export function hiddenField(page: string, name: string): string {
  const match = new RegExp(`<input type="hidden" name="${name}" value="([^"]*)">`).exec(page);
  if (match?.[1] === undefined) throw new Error(`the page has no hidden field ${name}`);
  return decode(match[1]);
}
