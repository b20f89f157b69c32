// RegionSelect: the phone region of an account or an entry point, the
// country that reads a client's number written the national way
// ("8 029 …" in Belarus). Countries are named in the page's language by
// the browser (Intl.DisplayNames) and sorted by that name; the first
// choice, "", leaves the next region out in force (the account's, the
// server's).
import { html } from "../core/html.js";
import { useStore } from "../core/store.js";

// CODES are the regions the server accepts: those libphonenumber has a
// numbering plan for (crm.CheckRegion).
const CODES = (
  "AC AD AE AF AG AI AL AM AO AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BW BY BZ " +
  "CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR " +
  "GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GT GU GW GY HK HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP " +
  "KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS " +
  "MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PR PS PT PW PY QA RE RO RS RU " +
  "RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TA TC TD TG TH TJ TK TL TM TN TO TR TT TV TW TZ " +
  "UA UG US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW"
).split(" ");

const sorted = {}; // lang → [[code, name]] by name

function options(lang) {
  if (!sorted[lang]) {
    let names;
    try {
      names = new Intl.DisplayNames([lang], { type: "region" });
    } catch {
      names = { of: (c) => c };
    }
    sorted[lang] = CODES.map((c) => [c, names.of(c) || c]).sort((a, b) => a[1].localeCompare(b[1], lang));
  }
  return sorted[lang];
}

// RegionSelect is a <select> of the regions; none labels "" (which region
// applies instead).
export function RegionSelect({ name, value, none, label, onChange, class: cls }) {
  const lang = useStore((s) => s.lang);
  return html`<select name=${name} class=${"region-select " + (cls || "")} aria-label=${label} value=${value || ""} onChange=${onChange}>
    <option value="">${none}</option>
    ${options(lang).map(([c, n]) => html`<option value=${c}>${n} (${c})</option>`)}
  </select>`;
}
