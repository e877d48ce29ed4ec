/** Words the catalog generator builds its products from. */

export interface LeafCategory {
  /** Second part of the slug: `<parent>-<key>`. */
  key: string;
  name: string;
  /** Product nouns sold in this category. */
  nouns: readonly string[];
}

export interface TopCategory {
  slug: string;
  name: string;
  children: readonly LeafCategory[];
}

/** 10 top-level categories with 5 children each. Some child names repeat across parents. */
export const CATEGORY_TREE: readonly TopCategory[] = [
  {
    slug: 'electronics',
    name: 'Electronics',
    children: [
      { key: 'audio', name: 'Audio', nouns: ['Headphones', 'Earbuds', 'Speaker', 'Soundbar', 'Turntable'] },
      { key: 'computers', name: 'Computers', nouns: ['Laptop', 'Keyboard', 'Mouse', 'Monitor', 'Webcam'] },
      { key: 'phones', name: 'Phones', nouns: ['Smartphone', 'Phone Case', 'Charger', 'Power Bank'] },
      { key: 'cameras', name: 'Cameras', nouns: ['Action Camera', 'Camera Lens', 'Tripod', 'Camera Strap'] },
      { key: 'wearables', name: 'Wearables', nouns: ['Smartwatch', 'Fitness Tracker', 'Watch Band'] },
    ],
  },
  {
    slug: 'clothing',
    name: 'Clothing',
    children: [
      { key: 'men', name: 'Men', nouns: ['Shirt', 'Jacket', 'Chinos', 'Hoodie', 'Polo'] },
      { key: 'women', name: 'Women', nouns: ['Dress', 'Blouse', 'Skirt', 'Cardigan', 'Trench Coat'] },
      { key: 'kids', name: 'Kids', nouns: ['T-Shirt', 'Pajama Set', 'Rain Jacket', 'Leggings'] },
      { key: 'shoes', name: 'Shoes', nouns: ['Sneakers', 'Boots', 'Sandals', 'Loafers'] },
      { key: 'accessories', name: 'Accessories', nouns: ['Belt', 'Scarf', 'Beanie', 'Wallet', 'Gloves'] },
    ],
  },
  {
    slug: 'home-kitchen',
    name: 'Home & Kitchen',
    children: [
      { key: 'cookware', name: 'Cookware', nouns: ['Skillet', 'Saucepan', 'Stock Pot', 'Chef Knife', 'Wok'] },
      { key: 'furniture', name: 'Furniture', nouns: ['Armchair', 'Bookcase', 'Coffee Table', 'Bar Stool'] },
      { key: 'bedding', name: 'Bedding', nouns: ['Duvet Cover', 'Pillow', 'Sheet Set', 'Throw Blanket'] },
      { key: 'decor', name: 'Decor', nouns: ['Vase', 'Wall Clock', 'Photo Frame', 'Table Lamp', 'Rug'] },
      { key: 'appliances', name: 'Appliances', nouns: ['Kettle', 'Toaster', 'Blender', 'Espresso Machine'] },
    ],
  },
  {
    slug: 'sports-outdoors',
    name: 'Sports & Outdoors',
    children: [
      { key: 'fitness', name: 'Fitness', nouns: ['Yoga Mat', 'Dumbbell Set', 'Kettlebell', 'Jump Rope'] },
      { key: 'camping', name: 'Camping', nouns: ['Tent', 'Sleeping Bag', 'Camp Stove', 'Lantern'] },
      { key: 'cycling', name: 'Cycling', nouns: ['Bike Helmet', 'Bike Light', 'Bike Lock', 'Saddle Bag'] },
      { key: 'team-sports', name: 'Team Sports', nouns: ['Football', 'Basketball', 'Shin Guards'] },
      { key: 'water-sports', name: 'Water Sports', nouns: ['Swim Goggles', 'Wetsuit', 'Paddle Board'] },
    ],
  },
  {
    slug: 'books',
    name: 'Books',
    children: [
      { key: 'fiction', name: 'Fiction', nouns: ['Novel', 'Thriller', 'Story Collection', 'Fantasy Epic'] },
      { key: 'non-fiction', name: 'Non-Fiction', nouns: ['Biography', 'Cookbook', 'Travel Guide'] },
      { key: 'children', name: 'Children', nouns: ['Picture Book', 'Activity Book', 'Bedtime Stories'] },
      { key: 'comics', name: 'Comics', nouns: ['Graphic Novel', 'Comic Omnibus', 'Manga Volume'] },
      { key: 'textbooks', name: 'Textbooks', nouns: ['Algebra Textbook', 'Chemistry Textbook', 'Atlas'] },
    ],
  },
  {
    slug: 'toys-games',
    name: 'Toys & Games',
    children: [
      { key: 'board-games', name: 'Board Games', nouns: ['Board Game', 'Card Game', 'Chess Set'] },
      { key: 'puzzles', name: 'Puzzles', nouns: ['Jigsaw Puzzle', 'Puzzle Cube', 'Brain Teaser'] },
      { key: 'building-sets', name: 'Building Sets', nouns: ['Building Kit', 'Marble Run', 'Robot Kit'] },
      { key: 'dolls', name: 'Dolls', nouns: ['Doll', 'Dollhouse', 'Action Figure', 'Plush Bear'] },
      { key: 'outdoor-play', name: 'Outdoor Play', nouns: ['Kite', 'Water Blaster', 'Kick Scooter'] },
    ],
  },
  {
    slug: 'beauty',
    name: 'Beauty',
    children: [
      { key: 'skincare', name: 'Skincare', nouns: ['Moisturizer', 'Face Serum', 'Cleanser', 'Sunscreen'] },
      { key: 'makeup', name: 'Makeup', nouns: ['Lipstick', 'Mascara', 'Foundation', 'Blush'] },
      { key: 'haircare', name: 'Haircare', nouns: ['Shampoo', 'Conditioner', 'Hair Dryer', 'Hair Brush'] },
      { key: 'fragrance', name: 'Fragrance', nouns: ['Eau de Parfum', 'Body Mist', 'Cologne'] },
      { key: 'bath-body', name: 'Bath & Body', nouns: ['Body Wash', 'Bath Salts', 'Body Lotion'] },
    ],
  },
  {
    slug: 'automotive',
    name: 'Automotive',
    children: [
      { key: 'parts', name: 'Parts', nouns: ['Brake Pads', 'Air Filter', 'Spark Plug', 'Wiper Blades'] },
      { key: 'tools', name: 'Tools', nouns: ['Socket Set', 'Torque Wrench', 'Jack Stand'] },
      { key: 'care', name: 'Car Care', nouns: ['Car Wax', 'Microfiber Cloth', 'Tire Shine'] },
      { key: 'electronics', name: 'Car Electronics', nouns: ['Dash Cam', 'Car Charger', 'Phone Mount'] },
      { key: 'accessories', name: 'Accessories', nouns: ['Seat Cover', 'Floor Mat', 'Trunk Organizer'] },
    ],
  },
  {
    slug: 'garden',
    name: 'Garden',
    children: [
      { key: 'plants', name: 'Plants', nouns: ['Seed Kit', 'Planter', 'Herb Garden', 'Potting Mix'] },
      { key: 'tools', name: 'Garden Tools', nouns: ['Pruning Shears', 'Trowel', 'Rake', 'Leaf Blower'] },
      { key: 'furniture', name: 'Furniture', nouns: ['Patio Chair', 'Hammock', 'Garden Bench', 'Parasol'] },
      { key: 'lighting', name: 'Outdoor Lighting', nouns: ['Solar Lamp', 'String Lights', 'Path Light'] },
      { key: 'watering', name: 'Watering', nouns: ['Garden Hose', 'Sprinkler', 'Watering Can'] },
    ],
  },
  {
    slug: 'office',
    name: 'Office',
    children: [
      { key: 'supplies', name: 'Office Supplies', nouns: ['Stapler', 'Tape Dispenser', 'Desk Pad'] },
      { key: 'furniture', name: 'Office Furniture', nouns: ['Office Chair', 'Standing Desk', 'Monitor Arm'] },
      { key: 'paper', name: 'Paper', nouns: ['Notebook', 'Printer Paper', 'Sticky Notes', 'Planner'] },
      { key: 'writing', name: 'Writing', nouns: ['Fountain Pen', 'Gel Pen Set', 'Pencil Set'] },
      { key: 'organization', name: 'Organization', nouns: ['Desk Organizer', 'Cable Box', 'Label Maker'] },
    ],
  },
];

export const BRANDS = [
  'Acme',
  'Northwind',
  'Contoso',
  'Fabrikam',
  'Globex',
  'Initech',
  'Umbrella',
  'Hooli',
  'Vandelay',
  'Tyrell',
  'Cyberdyne',
  'Aperture',
  'Wonka',
  'Monarch',
  'Blue Harbor',
  'Silver Fern',
  'Old Oak',
  'Kestrel',
  'Lumen',
  'Bramble & Co',
] as const;

/** Never contains "wireless": whether a product is wireless is decided on its own (see generate.ts). */
export const ADJECTIVES = [
  'Portable',
  'Compact',
  'Premium',
  'Classic',
  'Ultra',
  'Smart',
  'Eco',
  'Deluxe',
  'Pro',
  'Mini',
  'Heavy-Duty',
  'Lightweight',
  'Ergonomic',
  'Vintage',
  'Modern',
  'Rechargeable',
  'Foldable',
  'Waterproof',
  'Organic',
] as const;

export const COLORS = [
  'black',
  'white',
  'silver',
  'gray',
  'red',
  'blue',
  'green',
  'yellow',
  'orange',
  'purple',
  'pink',
  'brown',
  'beige',
  'navy',
  'teal',
  'olive',
] as const;

export const MATERIALS = [
  'cotton',
  'steel',
  'stainless steel',
  'aluminum',
  'leather',
  'oak',
  'bamboo',
  'recycled plastic',
  'glass',
  'ceramic',
  'merino wool',
  'polyester',
  'silicone',
  'linen',
  'carbon fiber',
  'rubber',
] as const;

/** Feature phrases; none mentions wireless. */
export const FEATURES = [
  'a rechargeable battery',
  'a steel frame',
  'a soft cotton lining',
  'a waterproof shell',
  'fast charging',
  'an ergonomic grip',
  'adjustable straps',
  'a stainless steel blade',
  'a leather trim',
  'a bamboo handle',
  'a non-slip base',
  'a USB-C port',
  'a magnetic closure',
  'reinforced stitching',
  'a tempered glass top',
  'a two-year warranty',
] as const;

/** Ways of saying a product is wireless; each contains the word. */
export const WIRELESS_PHRASES = [
  'wireless Bluetooth pairing',
  'a wireless range of up to 10 metres',
  'wireless charging',
  'a wireless remote',
] as const;

export const BENEFITS = [
  'everyday comfort',
  'long-lasting durability',
  'easy cleaning',
  'all-day use',
  'reliable performance',
  'a secure fit',
  'quick setup',
  'quiet operation',
  'tidy storage',
  'weekend adventures',
] as const;

export const USES = [
  'home and office',
  'travel',
  'the daily commute',
  'the kitchen',
  'the gym',
  'camping trips',
  'gifting',
  'professional work',
  'students',
  'small apartments',
] as const;

export const CLOTHING_SIZES = ['XS', 'S', 'M', 'L', 'XL'] as const;
export const OTHER_SIZES = ['Small', 'Medium', 'Large'] as const;
