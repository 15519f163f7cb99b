-- What each audited change changed: the object as the API showed it before and after (JSON;
-- NULL where it did not exist, and for entries written before states were kept), and the index
-- that reads one object's history without scanning the log.
ALTER TABLE audit_log ADD COLUMN before_state TEXT;
ALTER TABLE audit_log ADD COLUMN after_state TEXT;
CREATE INDEX audit_log_object ON audit_log (object_id, id);
