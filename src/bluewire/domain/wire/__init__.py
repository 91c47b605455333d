"""The wire types: each endpoint's request and answer, declared once as msgspec Structs.

The api layer decodes requests into these types and the services take them; the OpenAPI
document is derived from them. What a type cannot say (a number's validity, a URL's host) the
domain's checks say, with errors that name the field; the `pattern`s and `enum`s here describe
what a client should send, for the document.
"""
