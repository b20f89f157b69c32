-- Version 14: a contact who is not a client (a supplier, spam, a partner,
-- someone personal) and a blocked sender. not_client holds the reason
-- ('' : a client); their touches are stamped not_a_sale 'contact:<reason>'
-- (so they never count as unlinked, and a reverse finds them). A blocked
-- sender's touches are kept but never make anyone wait or reopen a
-- conversation.

ALTER TABLE contacts ADD COLUMN not_client TEXT NOT NULL DEFAULT '';
ALTER TABLE contacts ADD COLUMN blocked BOOLEAN NOT NULL DEFAULT FALSE;
