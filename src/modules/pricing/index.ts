/**
 * Pricing, on its own: the cart shows totals with it and checkout charges them, so both must compute
 * the same. A module of its own keeps imports one way (orders → cart → pricing), where pricing inside
 * orders would make cart and orders import each other.
 */
export {
  lineTotal,
  priceLines,
  type Discount,
  type PricedLine,
  type PricingRules,
  type Totals,
} from './pricing.js';
