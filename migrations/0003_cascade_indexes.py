"""Indexes for the foreign keys that deletions cascade through (retention, erasure,
purge): the database finds the referencing rows by that column alone. And one for
the stale-profile cron."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0002_search_trigram')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Attachment',
            index=Index(fields=['message_id']),
        ),
        ops.AddIndex(
            model_name='Contact',
            index=Index(fields=['workspace_id', 'profile_fetched_at']),
        ),
        ops.AddIndex(
            model_name='ContactIdentity',
            index=Index(fields=['contact_id']),
        ),
        ops.AddIndex(
            model_name='Conversation',
            index=Index(fields=['contact_id']),
        ),
        ops.AddIndex(
            model_name='Message',
            index=Index(fields=['conversation_id']),
        ),
        ops.AddIndex(
            model_name='Note',
            index=Index(fields=['conversation_id']),
        ),
    ]
