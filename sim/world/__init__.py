"""The street network, its homes and amenities, the routes between them."""
