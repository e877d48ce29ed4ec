CREATE TABLE "notification_deliveries" (
	"key" text PRIMARY KEY NOT NULL,
	"sent_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "result" text;--> statement-breakpoint
ALTER TABLE "carts" ADD COLUMN "reminded_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "carts_updated_idx" ON "carts" USING btree ("updated_at");--> statement-breakpoint
-- A variant back above its low-stock threshold loses its alert flag, whoever raised the stock (a
-- staff edit, a cancel, a refund, an import, an operator's SQL), so the next drop alerts again.
CREATE FUNCTION product_variants_clear_low_stock_alert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.low_stock_alerted AND NEW.stock > NEW.low_stock_threshold THEN
    NEW.low_stock_alerted := false;
  END IF;
  RETURN NEW;
END $$;--> statement-breakpoint
CREATE TRIGGER product_variants_low_stock_cleared BEFORE UPDATE OF stock, low_stock_threshold ON product_variants
  FOR EACH ROW EXECUTE FUNCTION product_variants_clear_low_stock_alert();
