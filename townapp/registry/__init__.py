"""Registry (基础信息): township → villages → groups, households, people, party members."""
