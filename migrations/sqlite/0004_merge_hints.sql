-- Version 4: merge hints (SQLite). A message whose handles belong to
-- several contacts (a web form with the phone of one and the email of
-- another) says those contacts may be one person: the contact panel
-- suggests merging them. Ingest writes one row per other contact.

CREATE TABLE merge_hints (
    id         INTEGER PRIMARY KEY,
    contact_id INTEGER NOT NULL REFERENCES contacts (id), -- the contact the touch went to
    other_id   INTEGER NOT NULL REFERENCES contacts (id), -- another contact one of its handles belongs to
    touch_id   INTEGER NOT NULL REFERENCES touches (id),
    created_at DATETIME NOT NULL
);
CREATE INDEX merge_hints_contact ON merge_hints (contact_id);
CREATE INDEX merge_hints_other ON merge_hints (other_id);

-- Hints recorded before this version live in the touch.added events.
INSERT INTO merge_hints (contact_id, other_id, touch_id, created_at)
SELECT json_extract(e.data, '$.contact_id'), j.value, e.touch_id, e.at
FROM events e, json_each(e.data, '$.merge_hint') j
WHERE e.type = 'touch.added' AND e.touch_id IS NOT NULL AND e.data LIKE '%merge_hint%';
