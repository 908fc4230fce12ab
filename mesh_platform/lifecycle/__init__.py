"""A product's life on the mesh: lifecycle states with behaviour, usage agreements between
teams, and scaffolding of new products from existing ports."""
