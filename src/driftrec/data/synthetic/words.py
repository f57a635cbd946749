"""Vocabularies of the synthetic shop: category names, category-specific words, brands, sentiment.

Every leaf category has its own nouns and feature words, and every top category its own
occasions, so that a text encoder (or a bag of words) can tell categories apart from titles,
descriptions and reviews alone. Generic adjectives and sentiment words are shared on purpose:
real catalogues mix topical and generic words too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np


@dataclass(frozen=True)
class LeafWords:
    """Words that only items of one leaf category use (nouns name the thing, features describe it)."""

    name: str
    nouns: tuple[str, ...]
    features: tuple[str, ...]


@dataclass(frozen=True)
class TopWords:
    """A top category: display name, typical price level (median, in currency units), occasions, leaves."""

    name: str
    price_level: float
    occasions: tuple[str, ...]
    leaves: tuple[LeafWords, ...]


def _leaf(spec: str) -> LeafWords:
    """Parse ``"Name: noun, noun | feature, feature"`` (a compact form keeps the tables readable)."""
    name, rest = spec.split(":", 1)
    nouns, features = rest.split("|")
    return LeafWords(
        name.strip(),
        tuple(w.strip() for w in nouns.split(",")),
        tuple(w.strip() for w in features.split(",")),
    )


def _top(name: str, price_level: float, occasions: str, *leaves: str) -> TopWords:
    return TopWords(
        name, price_level, tuple(o.strip() for o in occasions.split(",")), tuple(map(_leaf, leaves))
    )


TOP_CATEGORIES: Final[tuple[TopWords, ...]] = (
    _top(
        "Electronics",
        120.0,
        "commuting, gaming, streaming, video calls",
        "Headphones: headphones, earbuds, headset | wireless, noise-cancelling, bass-boosted",
        "Smartphones: smartphone, handset, flip phone | dual-sim, 5G, OLED",
        "Laptops: laptop, ultrabook, chromebook | backlit, touchscreen, thin-bezel",
        "Cameras: camera, camcorder, zoom lens | mirrorless, 4K, stabilised",
        "Smartwatches: smartwatch, fitness tracker, wristband | heart-rate, GPS, always-on",
        "Speakers: speaker, soundbar, subwoofer | bluetooth, portable, stereo",
        "Tablets: tablet, e-reader, drawing pad | retina, stylus-ready, 11-inch",
        "Chargers: charger, power bank, charging cable | fast-charging, USB-C, magnetic",
    ),
    _top(
        "Beauty",
        22.0,
        "daily routines, sensitive skin, evenings out, weekend pampering",
        "Skincare: serum, moisturiser, cleanser | hydrating, hyaluronic, fragrance-free",
        "Makeup: lipstick, mascara, foundation | matte, long-wear, pigmented",
        "Haircare: shampoo, conditioner, hair mask | sulphate-free, keratin, volumising",
        "Fragrance: perfume, cologne, eau de toilette | floral, woody, citrus",
        "Nails: nail polish, top coat, cuticle oil | gel-effect, chip-resistant, glossy",
        "Suncare: sunscreen, after-sun, tanning lotion | SPF50, reef-safe, non-greasy",
        "Bath: body wash, bath salts, body scrub | exfoliating, lavender, foaming",
        "Styling Tools: hair dryer, straightener, curling wand | ionic, ceramic, tourmaline",
    ),
    _top(
        "Garden",
        45.0,
        "patios, allotments, balconies, backyards",
        "Plants: seeds, bulbs, seedlings | perennial, heirloom, drought-tolerant",
        "Hand Tools: spade, pruner, rake | forged, ergonomic, rust-proof",
        "Watering: hose, sprinkler, watering can | expandable, kink-free, oscillating",
        "Garden Furniture: bench, parasol, sun lounger | teak, weatherproof, foldable",
        "Outdoor Lighting: lantern, string lights, floodlight | solar, dusk-to-dawn, warm-white",
        "Planters: planter, flower pot, trough | terracotta, glazed, self-watering",
        "Lawn Care: lawnmower, strimmer, lawn feed | mulching, slow-release, self-propelled",
        "Wildlife: bird feeder, nest box, bug hotel | squirrel-proof, cedar, hanging",
    ),
    _top(
        "Home & Kitchen",
        55.0,
        "family dinners, small flats, busy mornings, hosting friends",
        "Cookware: frying pan, saucepan, wok | non-stick, cast-iron, induction-ready",
        "Small Appliances: blender, toaster, kettle | high-speed, programmable, brushed-steel",
        "Coffee Makers: espresso machine, coffee grinder, cafetiere | barista-style, burr, thermal",
        "Bedding: duvet, pillow, sheet set | percale, hypoallergenic, king-size",
        "Storage: storage box, shelf unit, laundry basket | stackable, airtight, bamboo",
        "Lamps: table lamp, floor lamp, pendant shade | dimmable, Scandinavian, linen-shade",
        "Cleaning: vacuum cleaner, mop, steam cleaner | bagless, HEPA, lightweight",
        "Tableware: dinner plate, mug, tumbler | porcelain, dishwasher-safe, hand-glazed",
    ),
    _top(
        "Sports",
        50.0,
        "training days, marathons, weekend leagues, the great outdoors",
        "Running: running shoes, running shorts, armband | breathable, cushioned, reflective",
        "Fitness: dumbbells, kettlebell, resistance band | adjustable, non-slip, heavy-duty",
        "Cycling: bike helmet, bike light, saddle | aero, padded, high-lumen",
        "Yoga: yoga mat, yoga block, yoga strap | eco-friendly, grippy, extra-thick",
        "Swimming: goggles, swimsuit, swim cap | anti-fog, chlorine-resistant, hydrodynamic",
        "Camping: tent, sleeping bag, camping stove | ultralight, three-season, pop-up",
        "Team Sports: football, basketball, shin guards | match-grade, hand-stitched, indoor",
        "Racket Sports: tennis racket, badminton set, shuttlecocks | graphite, pre-strung, tournament",
    ),
    _top(
        "Toys",
        28.0,
        "birthdays, rainy days, family game nights, curious kids",
        "Building Sets: building bricks, construction set, marble run | interlocking, creative, 500-piece",
        "Dolls: doll, dollhouse, action figure | poseable, dress-up, collectible",
        "Puzzles: jigsaw, puzzle cube, brainteaser | 1000-piece, wooden, 3D",
        "Board Games: board game, card game, dice set | strategy, cooperative, party",
        "Remote Control: RC car, toy drone, RC helicopter | off-road, 2.4GHz, stunt",
        "Plush: teddy bear, plush toy, soft unicorn | cuddly, fluffy, machine-washable",
        "Educational: STEM kit, microscope, abacus | Montessori, science, coding",
        "Outdoor Play: trampoline, swing set, sandpit | garden-safe, sturdy, splash-proof",
    ),
    _top(
        "Books",
        14.0,
        "book clubs, long flights, quiet evenings, gifting",
        "Fiction: novel, thriller, short stories | bestselling, gripping, award-winning",
        "Cookbooks: cookbook, recipe collection, baking guide | vegetarian, step-by-step, seasonal",
        "Children's Books: picture book, storybook, bedtime book | illustrated, rhyming, lift-the-flap",
        "Biography: biography, memoir, autobiography | inspiring, candid, definitive",
        "Science: popular science, textbook, atlas | illuminating, accessible, peer-reviewed",
        "Travel Guides: guidebook, phrasebook, road atlas | pocket-size, updated, off-the-beaten-track",
        "Comics: graphic novel, manga, comic omnibus | full-colour, collected, limited-edition",
        "Self-Help: workbook, guided journal, daily planner | mindful, practical, motivational",
    ),
    _top(
        "Fashion",
        40.0,
        "the office, weekends, nights out, festivals",
        "Dresses: dress, maxi dress, sundress | wrap-style, linen, floral-print",
        "Jeans: jeans, denim jacket, chinos | slim-fit, stretch, high-rise",
        "Outerwear: parka, raincoat, puffer jacket | insulated, windproof, hooded",
        "Shoes: sneakers, ankle boots, loafers | suede, platform, cushioned-sole",
        "Bags: handbag, backpack, tote bag | crossbody, vegan-leather, zip-top",
        "Watches: wristwatch, chronograph, watch strap | automatic, sapphire-glass, minimalist",
        "Jewellery: necklace, earrings, bracelet | sterling-silver, gold-plated, pearl",
        "Knitwear: jumper, cardigan, scarf | merino, cable-knit, oversized",
    ),
    _top(
        "Grocery",
        7.0,
        "lunchboxes, pantry staples, movie nights, weeknight meals",
        "Coffee & Tea: coffee beans, tea bags, matcha | single-origin, fairtrade, decaf",
        "Snacks: crisps, cookies, granola bar | crunchy, sea-salt, wholegrain",
        "Pantry: pasta, basmati rice, olive oil | extra-virgin, durum-wheat, cold-pressed",
        "Breakfast: cereal, porridge oats, honey | overnight, raw, gluten-free",
        "Sweets: chocolate bar, gummies, toffee | dark-cocoa, sugar-coated, caramel",
        "Drinks: orange juice, sparkling water, kombucha | not-from-concentrate, zero-sugar, fizzy",
        "Spices: paprika, cumin, chilli flakes | smoked, ground, hand-blended",
        "Baby Food: fruit puree, teething rusks, infant formula | organic, squeeze-pouch, stage-one",
    ),
    _top(
        "Pet Supplies",
        30.0,
        "puppies, indoor cats, long walks, busy owners",
        "Dog Food: kibble, dog treats, wet dog food | grain-free, high-protein, puppy-formula",
        "Cat Food: cat food, cat treats, cat pouches | salmon-flavour, hairball-control, senior",
        "Pet Beds: pet bed, dog cushion, crate mat | orthopaedic, washable, memory-foam",
        "Pet Toys: chew toy, ball launcher, scratching post | squeaky, indestructible, catnip",
        "Pet Grooming: pet brush, nail clipper, pet shampoo | deshedding, gentle, oatmeal",
        "Aquatics: aquarium, aquarium filter, fish flakes | tropical, whisper-quiet, planted-tank",
        "Leads & Collars: dog lead, harness, collar | no-pull, reflective-stitch, padded-handle",
        "Small Animals: rabbit hutch, timothy hay, hamster wheel | chew-proof, silent-spin, two-storey",
    ),
    _top(
        "Automotive",
        55.0,
        "road trips, daily commutes, winter driving, weekend detailing",
        "Car Care: car wax, microfibre cloth, polish | ceramic-coat, streak-free, detailing",
        "Tyres: tyre, tyre inflator, valve caps | all-season, run-flat, digital-gauge",
        "Dash Cams: dash cam, rear camera, suction mount | 1440p, night-vision, parking-mode",
        "Car Audio: head unit, amplifier, car speaker | CarPlay, coaxial, DAB",
        "Garage Tools: jump starter, socket set, trolley jack | lithium, ratcheting, hydraulic",
        "Car Interior: seat cover, floor mats, boot organiser | all-weather, universal-fit, leatherette",
        "Car Lighting: headlight bulb, fog light, light bar | xenon, halogen, canbus",
        "Motorbike: full-face helmet, riding gloves, tank bag | armoured, vented, ECE-rated",
    ),
    _top(
        "Office",
        20.0,
        "home offices, students, small businesses, studios",
        "Stationery: notepad, gel pen, highlighter | dotted, refillable, quick-dry",
        "Desks: standing desk, writing desk, monitor arm | height-adjustable, oak-veneer, cable-managed",
        "Office Chairs: office chair, ergonomic chair, footrest | lumbar-support, mesh-back, reclining",
        "Printers: printer, ink cartridge, toner | duplex, laser, all-in-one",
        "Filing: ring binder, document folder, archive box | A4, lever-arch, expanding",
        "Art Supplies: watercolours, sketchbook, acrylic paints | artist-grade, acid-free, vibrant",
        "Calculators: calculator, label maker, laminator | scientific, solar-powered, thermal",
        "Mailing: envelopes, bubble mailers, packing tape | padded, recyclable, self-seal",
    ),
)

MAX_TOP_CATEGORIES: Final = len(TOP_CATEGORIES)
MAX_SUB_CATEGORIES: Final = min(len(top.leaves) for top in TOP_CATEGORIES)

#: Shared, category-neutral adjectives: titles start with one so that not every word is topical.
GENERIC_ADJECTIVES: Final[tuple[str, ...]] = (
    "Premium",
    "Classic",
    "Compact",
    "Essential",
    "Deluxe",
    "Everyday",
    "Pro",
    "Signature",
    "Ultra",
    "Original",
    "Modern",
    "Select",
    "Prime",
    "Studio",
)

#: Review sentiment by star band (index 0: 1-2 stars, 1: 3 stars, 2: 4-5 stars).
REVIEW_OPENERS: Final[tuple[tuple[str, ...], ...]] = (
    ("Disappointed with this", "Would not buy this", "Sent back this", "Regret buying this"),
    ("Decent enough", "An okay", "Average", "Does the job, this"),
    ("Absolutely love this", "Really happy with this", "Excellent", "Great value"),
)
REVIEW_CLOSERS: Final[tuple[tuple[str, ...], ...]] = (
    ("broke within a week", "not as described", "poor quality overall", "a waste of money"),
    ("nothing special", "fine for the price", "could be better", "does what it says"),
    ("exceeded my expectations", "works perfectly", "highly recommended", "worth every penny"),
)

_BRAND_HEADS: Final = (
    "Nor",
    "Lu",
    "Ve",
    "Ka",
    "Zi",
    "Or",
    "Ta",
    "Mi",
    "Bre",
    "Sol",
    "Ar",
    "Fen",
    "Qui",
    "Da",
    "El",
    "Ro",
    "Sa",
    "Tre",
    "Vo",
    "Ha",
)
_BRAND_MIDS: Final = ("", "ba", "li", "ne", "ro", "va", "to", "mo", "ri", "ze", "ka", "la", "po", "de", "su")
_BRAND_TAILS: Final = ("rik", "xa", "on", "ly", "ia", "ex", "ora", "ent", "is", "um", "ko", "ar")

MAX_BRANDS: Final = len(_BRAND_HEADS) * len(_BRAND_MIDS) * len(_BRAND_TAILS)


def brand_names(n: int, rng: np.random.Generator) -> list[str]:
    """Draw ``n`` distinct pronounceable brand names (``n <= MAX_BRANDS``)."""
    codes = rng.choice(MAX_BRANDS, size=n, replace=False)
    n_mid, n_tail = len(_BRAND_MIDS), len(_BRAND_TAILS)
    names = []
    for code in codes.tolist():
        head, rest = divmod(int(code), n_mid * n_tail)
        mid, tail = divmod(rest, n_tail)
        names.append(_BRAND_HEADS[head] + _BRAND_MIDS[mid] + _BRAND_TAILS[tail])
    return names
