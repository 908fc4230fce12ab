"""A product's life on the mesh: lifecycle states with behaviour and usage agreements between
teams. (Scaffolding of new products from existing ports: mesh_platform/scaffold/.)"""
