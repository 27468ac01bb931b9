package io.msm.core;

/**
 * Non-sticky mode: keeps a session's validity record and its copies' expiry in memcached up with
 * its accesses, without writing at every request. The record is rewritten once its last access lags
 * the record's grace ({@link ValidityRecord#graceMillis}); the copies are touched once their
 * refresh is due ({@link Expiry#refreshSeconds}). Both go out in one background write.
 */
final class AccessRecords {
    private final Expiry expiry;
    private final NonStickyKeys keys;
    private final BackupService backups;
    private final ClusterWriter cluster;

    AccessRecords(Expiry expiry, NonStickyKeys keys, BackupService backups, ClusterWriter cluster) {
        this.expiry = expiry;
        this.keys = keys;
        this.backups = backups;
        this.cluster = cluster;
    }

    /** @return true when an access at {@code accessedAt} is to be written: the record lags, or the copies' expiry */
    static boolean isDue(int timeout, long accessedAt, SessionState state) {
        return isRefreshDue(timeout, accessedAt, state)
                || accessedAt - state.recordedLastAccess >= ValidityRecord.graceMillis(timeout);
    }

    /** @return true when the copies' expiry in memcached is to be pushed forward with this access */
    private static boolean isRefreshDue(int timeout, long accessedAt, SessionState state) {
        return accessedAt - state.dataRefreshedAt >= Expiry.refreshSeconds(timeout) * 1000L;
    }

    /**
     * Writes the record of an access at {@code accessedAt}, and touches the copies when due, unless
     * what memcached holds ({@code state}) is fresh enough; the state then says what was written.
     *
     * @return the record written, or null when nothing needed writing
     */
    ValidityRecord recordIfDue(SessionId id, int timeout, long accessedAt, SessionState state) {
        if (!isDue(timeout, accessedAt, state)) {
            return null;
        }
        boolean refresh = isRefreshDue(timeout, accessedAt, state);
        if (ValidityRecord.expiresAt(accessedAt, timeout) <= expiry.now()) {
            // An access this old (a copy a long request kept) would record a session expired already,
            // over the record the user's requests elsewhere keep fresh: the record stays as it is.
            return null;
        }
        long refreshedAt = refresh ? expiry.now() : state.dataRefreshedAt;
        ValidityRecord record = new ValidityRecord(accessedAt, timeout, refreshedAt);
        backups.submit(id, ClusterWrite.accessed(id, expiry.nonSticky(timeout), keys.validityBytes(id, record), refresh,
                cluster::write));
        state.recordedLastAccess = accessedAt;
        state.dataRefreshedAt = refreshedAt;
        return record;
    }
}
