"""Indexes for what retention must spare (legal holds, restricted contacts), read
once per deletion batch."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0003_cascade_indexes')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Contact',
            index=Index(fields=['workspace_id', 'legal_hold']),
        ),
        ops.AddIndex(
            model_name='Contact',
            index=Index(fields=['workspace_id', 'restricted']),
        ),
    ]
