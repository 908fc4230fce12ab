"""The mesh catalog: find, understand and trust a data product."""
