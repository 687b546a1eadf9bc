// One small DOM builder so panels read as markup; text always goes in as text, never as HTML.

export type ElementProps = {
  class?: string;
  text?: string;
  /** Becomes `data-testid`: the stable hooks tests select by. */
  testid?: string;
  title?: string;
  /** Other attributes, `data-*` included. */
  attrs?: Record<string, string>;
};

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: ElementProps = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.class !== undefined) node.className = props.class;
  if (props.text !== undefined) node.textContent = props.text;
  if (props.testid !== undefined) node.dataset.testid = props.testid;
  if (props.title !== undefined) node.title = props.title;
  for (const [name, value] of Object.entries(props.attrs ?? {})) node.setAttribute(name, value);
  node.append(...children);
  return node;
}
