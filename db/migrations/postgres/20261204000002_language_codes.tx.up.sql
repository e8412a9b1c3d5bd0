-- Released migrations never change; add a new file instead.

-- Language codes and question types as le-utils spells them. Older versions
-- rewrote language codes on input through CLDR. Two of the results are no
-- le-utils code, so what the client sent is known and is put back: "zu" was
-- "zul", "sr-Latn" was "sr-LATN". The other rewrites ("ak" from "aka") are
-- le-utils codes themselves and stay. QTI questions were stored as "qti";
-- le-utils (and Studio) spell it "QTI".
UPDATE channels SET language = CASE language WHEN 'zu' THEN 'zul' ELSE 'sr-LATN' END
WHERE language IN ('zu', 'sr-Latn');
--bun:split
UPDATE content_nodes SET language = CASE language WHEN 'zu' THEN 'zul' ELSE 'sr-LATN' END
WHERE language IN ('zu', 'sr-Latn');
--bun:split
UPDATE files SET language = CASE language WHEN 'zu' THEN 'zul' ELSE 'sr-LATN' END
WHERE language IN ('zu', 'sr-Latn');
--bun:split
-- The languages a published channel includes, which Kolibri's lookup reads.
UPDATE channels SET included_languages = (
    SELECT jsonb_agg(CASE v WHEN 'zu' THEN 'zul' WHEN 'sr-Latn' THEN 'sr-LATN' ELSE v END ORDER BY i)
    FROM jsonb_array_elements_text(included_languages) WITH ORDINALITY AS e (v, i))
WHERE EXISTS (SELECT 1 FROM jsonb_array_elements_text(included_languages) AS e (v) WHERE v IN ('zu', 'sr-Latn'));
--bun:split
UPDATE channel_versions SET included_languages = (
    SELECT jsonb_agg(CASE v WHEN 'zu' THEN 'zul' WHEN 'sr-Latn' THEN 'sr-LATN' ELSE v END ORDER BY i)
    FROM jsonb_array_elements_text(included_languages) WITH ORDINALITY AS e (v, i))
WHERE EXISTS (SELECT 1 FROM jsonb_array_elements_text(included_languages) AS e (v) WHERE v IN ('zu', 'sr-Latn'));
--bun:split
UPDATE assessment_items SET type = 'QTI' WHERE type = 'qti';
