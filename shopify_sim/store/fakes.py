"""Word pools for realistic-looking people, places and products (cheap to sample, no Faker)."""

from __future__ import annotations

FIRST_NAMES = (
    "Olivia Liam Emma Noah Amelia Oliver Ava Elijah Sophia Mateo Isabella Lucas Mia Levi Charlotte Asher "
    "Harper Ethan Evelyn James Luna Leo Camila Jack Gianna Henry Ella Aiden Aria Owen Scarlett Sebastian "
    "Nora Daniel Chloe Michael Layla Hudson Ellie Ezra Zoe Kai Penelope Aarav Priya Wei Yuki Chen Fatima "
    "Omar Amara Kwame Lars Ingrid Sofia Diego Mei Hana Jose Ana Zoë Renée François Björn"
).split()
LAST_NAMES = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez "
    "Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark "
    "Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams "
    "Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Patel Kim Tanaka Müller O'Brien Dubois"
).split()
# (city, province, province_code, country, country_code, zip prefix)
PLACES = (
    ("Ottawa", "Ontario", "ON", "Canada", "CA", "K2P"),
    ("Toronto", "Ontario", "ON", "Canada", "CA", "M5V"),
    ("Montréal", "Quebec", "QC", "Canada", "CA", "H2Y"),
    ("Vancouver", "British Columbia", "BC", "Canada", "CA", "V6B"),
    ("New York", "New York", "NY", "United States", "US", "100"),
    ("Brooklyn", "New York", "NY", "United States", "US", "112"),
    ("Austin", "Texas", "TX", "United States", "US", "787"),
    ("Chicago", "Illinois", "IL", "United States", "US", "606"),
    ("Seattle", "Washington", "WA", "United States", "US", "981"),
    ("San Francisco", "California", "CA", "United States", "US", "941"),
    ("Denver", "Colorado", "CO", "United States", "US", "802"),
    ("London", "England", "ENG", "United Kingdom", "GB", "EC1"),
    ("Manchester", "England", "ENG", "United Kingdom", "GB", "M1"),
    ("Berlin", None, None, "Germany", "DE", "101"),
    ("Paris", None, None, "France", "FR", "750"),
    ("Sydney", "New South Wales", "NSW", "Australia", "AU", "200"),
    ("Melbourne", "Victoria", "VIC", "Australia", "AU", "300"),
)
STREETS = (
    "Main St", "Elm St", "Oak Ave", "Maple Rd", "Cedar Ln", "Pine St", "Queen St", "King St", "Market St",
    "Church Rd", "High St", "Bank St", "Rue Saint-Denis", "Sparks St", "Lake Shore Blvd", "Broadway",
)
COMPANIES = ("Acme Corp", "Globex", "Initech", "Umbrella Ltd", "Hooli", "Stark Industries", None)

ADJECTIVES = (
    "Classic Vintage Modern Rustic Sleek Cozy Bold Minimal Organic Urban Coastal Alpine Heritage Everyday "
    "Premium Handmade Lightweight Rugged Soft Bright"
).split()
MATERIALS = "Cotton Linen Wool Leather Canvas Bamboo Oak Walnut Ceramic Steel Copper Silk Denim Hemp".split()
NOUNS = (
    "Shirt Hoodie Jacket Tote Backpack Mug Bowl Lamp Chair Scarf Beanie Wallet Notebook Candle Blanket "
    "Sneakers Boots Watch Planter Teapot Apron Cap Socks Journal Vase"
).split()
VENDORS = ("Northwind", "Maple & Co", "Stonebrook", "Blue Heron", "Fjord Goods", "Tidewater", "Kestrel")
PRODUCT_TYPES = ("Apparel", "Home", "Accessories", "Footwear", "Kitchen", "Stationery", "")
SIZES = ("XS", "S", "M", "L", "XL", "XXL")
COLORS = ("Black", "White", "Navy", "Olive", "Sand", "Rust", "Grey", "Forest")
CUSTOMER_TAGS = ("vip", "wholesale", "newsletter", "repeat", "loyal", "b2b", "influencer", "returns")
ORDER_TAGS = ("gift", "rush", "wholesale", "fraud-check", "pos", "subscription", "preorder", "priority")
PRODUCT_TAGS = ("new", "sale", "summer", "winter", "bestseller", "eco", "limited", "gift-idea")
NOTES = (
    "Please gift wrap.",
    "Leave at the back door.",
    "Customer called about sizing.",
    "Deliver after 5pm — thanks!",
    "Ünicode note: café crème ☕",
)
GATEWAYS = (("shopify_payments",), ("shopify_payments",), ("paypal",), ("manual",), ("gift_card", "shopify_payments"))
SOURCES = ("web", "web", "web", "pos", "shopify_draft_order", "iphone")
PRESENTMENT = (("CAD", 1.36), ("EUR", 0.92), ("GBP", 0.79), ("AUD", 1.52))
SHIPPING = (("Standard", "STANDARD", 599), ("Express", "EXPRESS", 1499), ("Free shipping", "FREE", 0))
