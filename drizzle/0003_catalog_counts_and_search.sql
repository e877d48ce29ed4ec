CREATE TABLE "product_counts" (
	"audience" text PRIMARY KEY NOT NULL,
	"count" bigint NOT NULL
);
--> statement-breakpoint
DROP INDEX "products_search_trgm";--> statement-breakpoint
ALTER TABLE "products" ADD COLUMN "search_document" text GENERATED ALWAYS AS (lower(name || ' ' || slug || ' ' || description || ' ' || short_description || ' ' || sku)) STORED NOT NULL;--> statement-breakpoint
ALTER TABLE "products" ADD COLUMN "category_ids" uuid[] DEFAULT '{}' NOT NULL;--> statement-breakpoint
CREATE INDEX "products_search_document_trgm" ON "products" USING gin ("search_document" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "products_category_ids_gin" ON "products" USING gin ("category_ids");--> statement-breakpoint
-- products.category_ids follows product_categories: every statement that adds, removes or moves
-- links refreshes the category arrays of the products it touched (and only rewrites a row whose
-- array changes, so a re-import that changes no link rewrites no product).
-- The product rows whose arrays change are locked first, in id order, and the arrays read in a
-- second statement: under READ COMMITTED that statement takes a fresh snapshot, so it sees the
-- links of a transaction that held one of the rows and has just committed. Read in the locking
-- statement, the arrays would be those of its older snapshot, and two concurrent link changes of
-- one product would lose one. Rows whose arrays are already right (an import sets them itself) are
-- not locked: a row lock is a write.
-- FOR NO KEY UPDATE, like the UPDATE itself: it does not wait on the key-share locks that the
-- link's foreign key takes on the product.
CREATE FUNCTION products_refresh_category_ids() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
  PERFORM 1 FROM products p
  WHERE p.id IN (SELECT product_id FROM changed_links)
    AND p.category_ids IS DISTINCT FROM coalesce(
      (SELECT array_agg(pc.category_id ORDER BY pc.category_id) FROM product_categories pc
       WHERE pc.product_id = p.id), '{}')
  ORDER BY p.id
  FOR NO KEY UPDATE;
  UPDATE products p SET category_ids = fresh.ids
  FROM (
    SELECT c.product_id, coalesce(
      (SELECT array_agg(pc.category_id ORDER BY pc.category_id) FROM product_categories pc
       WHERE pc.product_id = c.product_id), '{}') AS ids
    FROM (SELECT DISTINCT product_id FROM changed_links) c
  ) fresh
  WHERE p.id = fresh.product_id AND p.category_ids IS DISTINCT FROM fresh.ids;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER product_categories_inserted AFTER INSERT ON product_categories
  REFERENCING NEW TABLE AS changed_links FOR EACH STATEMENT EXECUTE FUNCTION products_refresh_category_ids();
--> statement-breakpoint
CREATE TRIGGER product_categories_deleted AFTER DELETE ON product_categories
  REFERENCING OLD TABLE AS changed_links FOR EACH STATEMENT EXECUTE FUNCTION products_refresh_category_ids();
--> statement-breakpoint
CREATE TRIGGER product_categories_updated_from AFTER UPDATE ON product_categories
  REFERENCING OLD TABLE AS changed_links FOR EACH STATEMENT EXECUTE FUNCTION products_refresh_category_ids();
--> statement-breakpoint
CREATE TRIGGER product_categories_updated_to AFTER UPDATE ON product_categories
  REFERENCING NEW TABLE AS changed_links FOR EACH STATEMENT EXECUTE FUNCTION products_refresh_category_ids();
--> statement-breakpoint
CREATE FUNCTION products_clear_category_ids() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
  UPDATE products SET category_ids = '{}' WHERE category_ids <> '{}';
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER product_categories_truncated AFTER TRUNCATE ON product_categories
  FOR EACH STATEMENT EXECUTE FUNCTION products_clear_category_ids();
--> statement-breakpoint
UPDATE products p SET category_ids = links.ids
FROM (SELECT product_id, array_agg(category_id ORDER BY category_id) AS ids FROM product_categories GROUP BY product_id) links
WHERE p.id = links.product_id;
--> statement-breakpoint
-- product_counts: each statement on products adds the net change of each audience's count. An
-- update that changes no product's visibility (a price, a name) nets zero and leaves the counter
-- rows alone, so ordinary edits do not queue behind one another on them. A statement that changes
-- a count locks all three rows, always in the same order, so two transactions that change
-- different audiences' counts in turn cannot deadlock on them.
CREATE FUNCTION products_count_changes() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
DECLARE
  d_all bigint := 0;
  d_live bigint := 0;
  d_public bigint := 0;
  n_all bigint;
  n_live bigint;
  n_public bigint;
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    SELECT count(*), count(*) FILTER (WHERE deleted_at IS NULL),
           count(*) FILTER (WHERE deleted_at IS NULL AND is_active)
      INTO n_all, n_live, n_public FROM new_products;
    d_all := n_all; d_live := n_live; d_public := n_public;
  END IF;
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    SELECT count(*), count(*) FILTER (WHERE deleted_at IS NULL),
           count(*) FILTER (WHERE deleted_at IS NULL AND is_active)
      INTO n_all, n_live, n_public FROM old_products;
    d_all := d_all - n_all; d_live := d_live - n_live; d_public := d_public - n_public;
  END IF;
  IF d_all = 0 AND d_live = 0 AND d_public = 0 THEN
    RETURN NULL;
  END IF;
  PERFORM 1 FROM product_counts ORDER BY audience FOR UPDATE;
  UPDATE product_counts
  SET count = count + CASE audience WHEN 'all' THEN d_all WHEN 'live' THEN d_live ELSE d_public END
  WHERE (audience = 'all' AND d_all <> 0) OR (audience = 'live' AND d_live <> 0)
     OR (audience = 'public' AND d_public <> 0);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER products_counted_insert AFTER INSERT ON products
  REFERENCING NEW TABLE AS new_products FOR EACH STATEMENT EXECUTE FUNCTION products_count_changes();
--> statement-breakpoint
CREATE TRIGGER products_counted_update AFTER UPDATE ON products
  REFERENCING OLD TABLE AS old_products NEW TABLE AS new_products
  FOR EACH STATEMENT EXECUTE FUNCTION products_count_changes();
--> statement-breakpoint
CREATE TRIGGER products_counted_delete AFTER DELETE ON products
  REFERENCING OLD TABLE AS old_products FOR EACH STATEMENT EXECUTE FUNCTION products_count_changes();
--> statement-breakpoint
CREATE FUNCTION products_count_reset() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
  UPDATE product_counts SET count = 0;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER products_counted_truncate AFTER TRUNCATE ON products
  FOR EACH STATEMENT EXECUTE FUNCTION products_count_reset();
--> statement-breakpoint
INSERT INTO product_counts (audience, count)
SELECT 'all', count(*) FROM products
UNION ALL SELECT 'live', count(*) FROM products WHERE deleted_at IS NULL
UNION ALL SELECT 'public', count(*) FROM products WHERE deleted_at IS NULL AND is_active;
