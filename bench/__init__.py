"""The benchmark: synthetic data at city, province and nation scale, and each operation's ratio to its floor."""
