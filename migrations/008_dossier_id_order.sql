-- 008_dossier_id_order.sql: dossier ids compared byte by byte.
--
-- Each batch looks up, locks and updates its dossiers by dossier_id (about one
-- row for every four events) and inserts the new ones into the primary-key
-- index.  Under the cluster's default collation each comparison in that index
-- goes through the C library's strcoll; a dossier_id is an opaque identifier
-- ([A-Za-z0-9._-], events.md), so byte order is all it needs (for these
-- characters it is also the order of C.UTF-8).  Measured: a lookup of 13,000
-- ids among 1.25 million rows 39 -> 27 ms.  Same reasoning as 007.
ALTER TABLE dossier ALTER COLUMN dossier_id TYPE text COLLATE "C";
