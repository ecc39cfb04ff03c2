// The ProseMirror schema of Tandem's composer: the node and mark names Tiptap's StarterKit,
// Underline, Link and Image extensions give the editor, which is what lands in a draft's
// `body` XmlFragment through y-prosemirror and what `crdt/richtext.py` renders.
import { Schema } from "prosemirror-model";

const block = (tag, content = "inline*", extra = {}) => ({
  content, group: "block", parseDOM: [{ tag }], toDOM: () => [tag, 0], ...extra,
});

export const schema = new Schema({
  nodes: {
    doc: { content: "block+" },
    paragraph: block("p"),
    heading: block("h1", "inline*", { attrs: { level: { default: 1 } } }),
    blockquote: block("blockquote", "block+"),
    codeBlock: block("pre", "text*", { marks: "", code: true }),
    bulletList: block("ul", "listItem+"),
    orderedList: block("ol", "listItem+", { attrs: { start: { default: 1 } } }),
    listItem: { content: "paragraph block*", toDOM: () => ["li", 0] },
    horizontalRule: { group: "block", toDOM: () => ["hr"] },
    image: {
      group: "block",
      attrs: { src: {}, alt: { default: null }, title: { default: null } },
      toDOM: (node) => ["img", node.attrs],
    },
    hardBreak: { inline: true, group: "inline", selectable: false, toDOM: () => ["br"] },
    text: { group: "inline" },
  },
  marks: {
    link: { attrs: { href: {}, target: { default: null } }, inclusive: false, toDOM: (m) => ["a", m.attrs, 0] },
    bold: { toDOM: () => ["strong", 0] },
    italic: { toDOM: () => ["em", 0] },
    underline: { toDOM: () => ["u", 0] },
    strike: { toDOM: () => ["s", 0] },
    code: { toDOM: () => ["code", 0] },
  },
});
