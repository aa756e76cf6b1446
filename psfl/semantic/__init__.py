"""psfl.semantic"""
