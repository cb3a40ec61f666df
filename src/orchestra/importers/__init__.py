"""Importers: tests other tools hold (curl command lines, HAR files, Postman collections), written as
Orchestra test cases."""
