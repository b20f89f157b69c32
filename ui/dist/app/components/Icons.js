// Icons: small inline SVGs drawn by us (never from message data).
import { html } from "../core/html.js";

const paths = {
  phone: html`<path d="M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25 11.4 11.4 0 0 0 3.6.57 1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.57 3.57a1 1 0 0 1-.25 1z" />`,
  email: html`<rect x="3" y="5" width="18" height="14" rx="2" fill="none" stroke="currentColor" stroke-width="2" /><path d="m4 7 8 6 8-6" fill="none" stroke="currentColor" stroke-width="2" />`,
  telegram: html`<path d="M21.5 4.3 2.9 11.5c-1.3.5-1.3 1.2-.2 1.5l4.8 1.5 1.8 5.6c.2.6.1.9.8.9.5 0 .7-.2 1-.5l2.4-2.3 4.9 3.6c.9.5 1.6.2 1.8-.8l3.3-15.4c.3-1.3-.5-1.9-1.4-1.5zM8.9 14.2l9.6-6c.5-.3.9-.1.5.2l-8.2 7.4-.3 3.4z" />`,
  whatsapp: html`<path d="M12 2a10 10 0 0 0-8.6 15.1L2 22l5-1.3A10 10 0 1 0 12 2zm0 18.2a8.2 8.2 0 0 1-4.2-1.2l-.3-.2-3 .8.8-2.9-.2-.3A8.2 8.2 0 1 1 12 20.2zm4.5-6.1c-.2-.1-1.5-.7-1.7-.8s-.4-.1-.6.1l-.8 1c-.1.2-.3.2-.5.1a6.7 6.7 0 0 1-3.3-2.9c-.2-.4.3-.4.8-1.3.1-.2 0-.3 0-.4l-.8-1.8c-.2-.5-.4-.4-.6-.4h-.5a1 1 0 0 0-.7.3 2.9 2.9 0 0 0-.9 2.2 5 5 0 0 0 1.1 2.7 11.5 11.5 0 0 0 4.4 3.9c1.6.7 2.3.8 3.1.6a2.7 2.7 0 0 0 1.8-1.2 2.2 2.2 0 0 0 .2-1.3c-.1-.1-.3-.2-.5-.3z" />`,
  web: html`<circle cx="12" cy="12" r="9" fill="none" stroke="currentColor" stroke-width="2" /><path d="M3 12h18M12 3c2.5 2.7 3.8 5.7 3.8 9s-1.3 6.3-3.8 9c-2.5-2.7-3.8-5.7-3.8-9S9.5 5.7 12 3z" fill="none" stroke="currentColor" stroke-width="2" />`,
};

export function ChannelIcon({ channel, size = 16 }) {
  return html`<svg class=${"ch-icon ch-" + channel} width=${size} height=${size} viewBox="0 0 24 24" fill="currentColor" aria-hidden="true">${paths[channel] || paths.web}</svg>`;
}

const glyphs = {
  clock: html`<circle cx="12" cy="12" r="9" fill="none" stroke="currentColor" stroke-width="2" /><path d="M12 7v5l3 2" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" />`,
  clip: html`<path d="M16.5 6.5 8.6 14.4a2 2 0 0 0 2.8 2.8l8-8a4 4 0 0 0-5.6-5.6l-8 8a6 6 0 0 0 8.5 8.5l7-7" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" />`,
  check: html`<path d="m5 12.5 4.5 4.5L19 7.5" fill="none" stroke="currentColor" stroke-width="2.4" stroke-linecap="round" stroke-linejoin="round" />`,
  checks: html`<path d="m2 12.5 4.5 4.5L16 7.5M11 16l1 1 9.5-9.5" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round" />`,
  alert: html`<path d="M12 3 2 20h20z" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round" /><path d="M12 10v4M12 17v.5" stroke="currentColor" stroke-width="2" stroke-linecap="round" />`,
  play: html`<path d="M7 5v14l12-7z" />`,
  phone: paths.phone,
  bell: html`<path d="M6 16V11a6 6 0 0 1 12 0v5l2 2H4zM10 20a2 2 0 0 0 4 0" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round" />`,
  snooze: html`<path d="M9 3h5l-5 6h5M20 13a8 8 0 1 1-9.5-7.9" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" />`,
};

// Icon is a small glyph in the current text colour.
export function Icon({ name, size = 14 }) {
  return html`<svg class="icon" width=${size} height=${size} viewBox="0 0 24 24" fill="currentColor" aria-hidden="true">${glyphs[name]}</svg>`;
}
