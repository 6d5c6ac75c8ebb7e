"""Apps Titan is measured against: the seed's design and a framework-free ceiling."""
