// html is the tagged template every component renders with: htm bound to
// Preact's h. htm builds elements, never parses strings as HTML, so text
// interpolated into it is always text.
import { h } from "preact";
import htm from "htm";

export const html = htm.bind(h);
