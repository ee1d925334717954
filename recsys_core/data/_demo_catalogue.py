"""The demo shop's vocabulary: categories with their product kinds, brands, model names and numbers.

Kept apart from the generator (:mod:`recsys_core.data._demo`) because it is data, not logic.
"""

from __future__ import annotations

import numpy as np

#: Category -> (relative size, product kinds). Sizes loosely follow Amazon Electronics.
CATEGORIES: dict[str, tuple[float, tuple[str, ...]]] = {
    "Headphones": (
        6,
        (
            "Wireless Earbuds",
            "Over-Ear Headphones",
            "Noise Cancelling Headphones",
            "Sport Earphones",
            "Gaming Headset",
            "On-Ear Headphones",
        ),
    ),
    "Cameras": (4, ("Mirrorless Camera", "Digital SLR", "Action Camera", "Compact Camera", "Instant Camera")),
    "Camera Accessories": (
        5,
        ("Camera Lens", "Tripod", "Camera Bag", "Lens Filter", "Flash Unit", "Memory Card Reader"),
    ),
    "Laptops": (3, ("Ultrabook", "Gaming Laptop", "Chromebook", "Convertible Laptop")),
    "Tablets": (3, ("Tablet", "E-Reader", "Drawing Tablet", "Kids Tablet")),
    "Phone Accessories": (
        8,
        (
            "Phone Case",
            "Screen Protector",
            "Car Phone Mount",
            "Wireless Charger",
            "Selfie Stick",
            "Phone Grip",
        ),
    ),
    "Televisions": (2, ("LED TV", "OLED TV", "Smart TV", "Projector")),
    "Home Audio": (
        4,
        ("Bluetooth Speaker", "Soundbar", "Bookshelf Speakers", "AV Receiver", "Subwoofer", "Turntable"),
    ),
    "Computer Accessories": (
        9,
        (
            "Wireless Mouse",
            "Mechanical Keyboard",
            "USB Hub",
            "Laptop Stand",
            "Webcam",
            "Mouse Pad",
            "Docking Station",
        ),
    ),
    "Storage": (
        6,
        ("USB Flash Drive", "Portable SSD", "External Hard Drive", "microSD Card", "SD Card", "NAS Drive"),
    ),
    "Networking": (
        4,
        ("Wi-Fi Router", "Mesh Wi-Fi System", "Network Switch", "Wi-Fi Extender", "USB Wi-Fi Adapter"),
    ),
    "Cables & Adapters": (
        8,
        (
            "HDMI Cable",
            "USB-C Cable",
            "Lightning Cable",
            "DisplayPort Adapter",
            "Ethernet Cable",
            "Audio Cable",
            "Travel Adapter",
        ),
    ),
    "Monitors": (3, ("Gaming Monitor", "4K Monitor", "Ultrawide Monitor", "Portable Monitor")),
    "Printers": (2, ("Laser Printer", "Inkjet Printer", "Photo Printer", "Document Scanner")),
    "Batteries & Power": (
        6,
        (
            "Power Bank",
            "AA Rechargeable Batteries",
            "Battery Charger",
            "Surge Protector",
            "UPS Battery Backup",
        ),
    ),
    "Smart Home": (4, ("Smart Plug", "Video Doorbell", "Smart Bulb", "Security Camera", "Smart Thermostat")),
    "Wearables": (3, ("Fitness Tracker", "Smartwatch", "Sleep Tracker", "Smart Ring")),
    "Gaming": (4, ("Game Controller", "Gaming Mouse", "Racing Wheel", "Gaming Keyboard", "Capture Card")),
    "Car Electronics": (3, ("Dash Cam", "Car Stereo", "GPS Navigator", "Radar Detector", "Backup Camera")),
    "Computer Components": (
        5,
        ("Graphics Card", "Desktop Memory", "CPU Cooler", "Power Supply", "Internal SSD", "Motherboard"),
    ),
}

BRANDS = np.array(
    [
        "Aurix",
        "Voltra",
        "Sonique",
        "Kestrel",
        "Nimbus",
        "Corvo",
        "Lumetra",
        "Zentro",
        "Quanta",
        "Brixel",
        "Orbis",
        "Tavex",
        "Helion",
        "Pyxis",
        "Vantor",
        "Axiom",
        "Solent",
        "Maxtrix",
    ]
)
MODELS = np.array(
    [
        "",
        " Pro",
        " Max",
        " Mini",
        " Plus",
        " Lite",
        " Ultra",
        " Air",
        " Neo",
        " Elite",
        " Go",
        " X",
        " S",
        " SE",
    ]
)
NUMBERS = np.array(
    [
        "1",
        "2",
        "3",
        "4",
        "5",
        "6",
        "7",
        "8",
        "9",
        "10",
        "12",
        "20",
        "100",
        "200",
        "300",
        "500",
        "700",
        "900",
        "2000",
        "3000",
        "4K",
        "X2",
        "S5",
        "V3",
    ]
)
