"""Request and response models of the REST API (pydantic); the OpenAPI document reads them."""
