/** A form of a page: where it posts and its named inputs. */
export interface HtmlForm {
  readonly action: string;
  readonly fields: Readonly<Record<string, string>>;
}

const ENTITIES: Record<string, string> = {
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&#39;': "'",
};
const decode = (text: string) =>
  text.replace(/&(?:amp|lt|gt|quot|#39);/g, (entity) => ENTITIES[entity] ?? entity);
const attribute = (tag: string, name: string) => {
  const value = new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];
  return value === undefined ? undefined : decode(value);
};

/**
 * The forms of a page the deployment rendered (its login form, its form_post page). A reader of
 * regular expressions is enough for these pages; it is not meant for arbitrary HTML.
 */
export function parseForms(html: string): HtmlForm[] {
  return [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)].map(([, attributes = '', inner = '']) => {
    const fields: Record<string, string> = {};
    for (const [input] of inner.matchAll(/<input\b[^>]*>/g)) {
      const name = attribute(input, 'name');
      if (name !== undefined) fields[name] = attribute(input, 'value') ?? '';
    }
    return { action: attribute(` ${attributes}`, 'action') ?? '', fields };
  });
}
