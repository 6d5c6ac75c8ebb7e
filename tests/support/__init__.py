"""Helpers shared by Titan's tests."""
