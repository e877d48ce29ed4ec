CREATE TABLE "public_category_prices" (
	"category_id" uuid NOT NULL,
	"price" numeric(10, 2) NOT NULL,
	"product_id" uuid NOT NULL,
	CONSTRAINT "public_category_prices_category_id_price_product_id_pk" PRIMARY KEY("category_id","price","product_id")
);
--> statement-breakpoint
-- public_category_prices follows products: each statement removes the entries of the rows it
-- changed, as they were, and adds those of the rows as they are now. Rows whose price,
-- visibility and categories are unchanged (most edits, an unchanged re-import) are left alone.
-- The link triggers (0003) keep category_ids, so link changes arrive here as product updates.
-- Every writer of a product holds its row lock until commit, so the entries of one product are
-- never changed by two transactions at once.
CREATE FUNCTION products_refresh_category_prices() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
  -- A transition table exists only for the operations that have it: each branch names its own.
  IF TG_OP = 'DELETE' THEN
    DELETE FROM public_category_prices cp USING old_products o
    WHERE o.deleted_at IS NULL AND o.is_active
      AND cp.product_id = o.id AND cp.price = o.price AND cp.category_id = ANY (o.category_ids);
  ELSIF TG_OP = 'UPDATE' THEN
    DELETE FROM public_category_prices cp USING old_products o
    WHERE o.deleted_at IS NULL AND o.is_active
      AND cp.product_id = o.id AND cp.price = o.price AND cp.category_id = ANY (o.category_ids)
      AND NOT EXISTS (
        SELECT 1 FROM new_products n
        WHERE n.id = o.id AND n.price = o.price AND n.deleted_at IS NULL AND n.is_active
          AND n.category_ids = o.category_ids);
    INSERT INTO public_category_prices (category_id, price, product_id)
    SELECT DISTINCT c.category_id, n.price, n.id
    FROM new_products n CROSS JOIN LATERAL unnest(n.category_ids) AS c(category_id)
    WHERE n.deleted_at IS NULL AND n.is_active
      AND NOT EXISTS (
        SELECT 1 FROM old_products o
        WHERE o.id = n.id AND o.price = n.price AND o.deleted_at IS NULL AND o.is_active
          AND o.category_ids = n.category_ids);
  ELSE
    INSERT INTO public_category_prices (category_id, price, product_id)
    SELECT DISTINCT c.category_id, n.price, n.id
    FROM new_products n CROSS JOIN LATERAL unnest(n.category_ids) AS c(category_id)
    WHERE n.deleted_at IS NULL AND n.is_active;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER products_category_prices_insert AFTER INSERT ON products
  REFERENCING NEW TABLE AS new_products FOR EACH STATEMENT EXECUTE FUNCTION products_refresh_category_prices();
--> statement-breakpoint
CREATE TRIGGER products_category_prices_update AFTER UPDATE ON products
  REFERENCING OLD TABLE AS old_products NEW TABLE AS new_products
  FOR EACH STATEMENT EXECUTE FUNCTION products_refresh_category_prices();
--> statement-breakpoint
CREATE TRIGGER products_category_prices_delete AFTER DELETE ON products
  REFERENCING OLD TABLE AS old_products FOR EACH STATEMENT EXECUTE FUNCTION products_refresh_category_prices();
--> statement-breakpoint
CREATE FUNCTION products_clear_category_prices() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
  DELETE FROM public_category_prices;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER products_category_prices_truncate AFTER TRUNCATE ON products
  FOR EACH STATEMENT EXECUTE FUNCTION products_clear_category_prices();
--> statement-breakpoint
INSERT INTO public_category_prices (category_id, price, product_id)
SELECT DISTINCT c.category_id, p.price, p.id
FROM products p CROSS JOIN LATERAL unnest(p.category_ids) AS c(category_id)
WHERE p.deleted_at IS NULL AND p.is_active;
