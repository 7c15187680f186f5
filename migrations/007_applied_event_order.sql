-- 007_applied_event_order.sql: applied event ids compared byte by byte.
--
-- Every applied event adds one key to applied_event's primary-key index, the
-- largest single cost of applying a batch.  Under the cluster's default
-- collation (C.UTF-8 here, often en_US.UTF-8) each comparison in that index
-- goes through the C library's strcoll; an event_id is an opaque identifier
-- ([A-Za-z0-9._:-]), so byte order is all it needs.  tthc-ingest sends each
-- batch's ids in that same order, so that consecutive keys land on the same
-- index pages.
ALTER TABLE applied_event ALTER COLUMN event_id TYPE text COLLATE "C";
