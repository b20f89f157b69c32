-- Version 8: the owner's report (SQLite).
--
-- Spend per day: a source's spend, optionally per campaign, one row a day,
-- so that any period of the report sums exact days and a re-import of a day
-- replaces it. A range entered at once is spread over its days by the
-- application (the remainder on the first days: the days sum exactly to
-- the amount). The spends table stays as the log of what was entered; the
-- report reads spend_days only, so its old rows are spread here once.

ALTER TABLE ad_sources ADD COLUMN vat_included BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE spends ADD COLUMN campaign TEXT NOT NULL DEFAULT '';

CREATE TABLE spend_days (
    id           INTEGER PRIMARY KEY,
    ad_source_id INTEGER NOT NULL REFERENCES ad_sources (id),
    campaign     TEXT NOT NULL DEFAULT '',
    day          DATE NOT NULL,
    amount       BIGINT NOT NULL CHECK (amount >= 0),
    currency     TEXT NOT NULL,
    updated_at   DATETIME NOT NULL,
    UNIQUE (ad_source_id, campaign, day)
);
CREATE INDEX spend_days_day ON spend_days (day, ad_source_id, campaign, amount, currency);

-- The old periods, spread evenly (remainder on the first days). Periods of
-- one source that overlap add up; a day with spend in two currencies keeps
-- each currency apart under a campaign named after the currency.
INSERT INTO spend_days (ad_source_id, campaign, day, amount, currency, updated_at)
WITH RECURSIVE d (spend_id, day, i) AS (
    SELECT id, date(period_start), 0 FROM spends
    UNION ALL
    SELECT d.spend_id, date(d.day, '+1 day'), d.i + 1
    FROM d JOIN spends s ON s.id = d.spend_id
    WHERE date(d.day, '+1 day') <= date(s.period_end)
), x AS (
    SELECT s.ad_source_id, s.currency, d.day,
           s.amount / n.n + CASE WHEN d.i < s.amount % n.n THEN 1 ELSE 0 END AS amount
    FROM d
    JOIN spends s ON s.id = d.spend_id
    JOIN (SELECT id, CAST(julianday(date(period_end)) - julianday(date(period_start)) AS INTEGER) + 1 AS n FROM spends) n ON n.id = s.id
), g AS (
    SELECT ad_source_id, currency, day, SUM(amount) AS amount,
           COUNT(*) OVER (PARTITION BY ad_source_id, day) AS k
    FROM x GROUP BY ad_source_id, currency, day
)
SELECT ad_source_id, CASE WHEN k > 1 THEN currency ELSE '' END, day || ' 00:00:00+00:00', amount, currency,
       strftime('%Y-%m-%d %H:%M:%S+00:00', 'now')
FROM g;

-- The report's reads: a contact's inbound touches in time order (its lead,
-- its last significant touch before a deal), the inbound touches of a
-- period, and deals closed in a period.
CREATE INDEX touches_contact_in ON touches (contact_id, occurred_at, ad_source_id) WHERE direction = 'in';
CREATE INDEX touches_in_time ON touches (occurred_at, ad_source_id, channel, entry_point_id, call_status, contact_id) WHERE direction = 'in';
CREATE INDEX deals_closed ON deals (closed_at, status);
