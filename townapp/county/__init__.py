"""Exchange between levels (DESIGN §5.3): what a township reports up, and what the county decides and sends down."""
