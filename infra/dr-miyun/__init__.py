"""The Miyun disaster-recovery site: backup vault, replication peers, DNS failover."""
