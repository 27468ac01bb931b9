package io.msm.core;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.concurrent.ThreadLocalRandom;
import java.util.zip.CRC32;

/**
 * Lets a session outgrow memcached's item size (1 MB by default): a value larger than a part is
 * written as parts under keys of their own, then a small index under the session's key. The index
 * goes last, so a reader sees the old value or the whole new one, never half; each write's parts
 * carry a generation of their own, so a conditional write that loses leaves the winner's parts
 * alone. Reads put the parts together and check length and checksum. Everything else passes
 * through: most sessions are one item, as before.
 */
final class PartedStore implements SessionStore {
    /** What fits in memcached's default 1 MB item with room for the key and the item header. */
    static final int PART_SIZE = 1_000_000;
    /** The largest session stored: beyond this an item is refused and the session stays in memory. */
    static final int MAX_PARTS = 64;
    /** How long the parts of a replaced value stay for reads under way. */
    static final int REPLACED_PARTS_SECONDS = 10;
    /** Never the start of a frame ('m'), a validity record or marker (1), nor a lock token (text). */
    private static final byte[] MAGIC = {0, 'm', 's', 'p'};
    private static final byte VERSION = 1;
    private static final int INDEX_SIZE = MAGIC.length + 1 + 8 + 4 + 4 + 8;
    /** What a part's key adds to the session's key: ":part:" + 16 hex digits + ":" + up to 2 digits. */
    static final int KEY_SUFFIX = 6 + 16 + 1 + 2;

    private final SessionStore items;
    private final int partSize;
    /**
     * The longest value read: what the transcoders decode, and a part more for the frame. The bytes are
     * authenticated only once put together, so a planted index must not make every load of a session
     * hold 64 MB first.
     */
    private final long maxLength;

    PartedStore(SessionStore items) {
        this(items, PART_SIZE, (long) MAX_PARTS * PART_SIZE);
    }

    /** @param maxContentBytes the largest content the transcoders decode ({@code serialFilter}'s maxbytes) */
    static PartedStore reading(SessionStore items, long maxContentBytes) {
        return new PartedStore(items, PART_SIZE, maxContentBytes + PART_SIZE);
    }

    /** @param partSize smaller in tests, so that parts are cheap to make */
    PartedStore(SessionStore items, int partSize) {
        this(items, partSize, (long) MAX_PARTS * partSize);
    }

    /** @param maxLength the longest value read back; an index of a longer one reads as missing */
    PartedStore(SessionStore items, int partSize, long maxLength) {
        this.items = items;
        this.partSize = partSize;
        this.maxLength = Math.min(maxLength, (long) MAX_PARTS * partSize);
    }

    /** The index of a value stored in parts. */
    private static final class Index {
        final long generation;
        final int parts;
        final int length;
        final long crc;

        Index(long generation, int parts, int length, long crc) {
            this.generation = generation;
            this.parts = parts;
            this.length = length;
            this.crc = crc;
        }

        byte[] encode() {
            return ByteBuffer.allocate(INDEX_SIZE).put(MAGIC).put(VERSION).putLong(generation).putInt(parts)
                    .putInt(length).putLong(crc).array();
        }

        /** @return null for a value that is not an index */
        static Index decode(byte[] value) {
            if (value == null || value.length != INDEX_SIZE) {
                return null;
            }
            for (int i = 0; i < MAGIC.length; i++) {
                if (value[i] != MAGIC[i]) {
                    return null;
                }
            }
            ByteBuffer in = ByteBuffer.wrap(value, MAGIC.length, INDEX_SIZE - MAGIC.length);
            if (in.get() != VERSION) {
                return null;
            }
            Index index = new Index(in.getLong(), in.getInt(), in.getInt(), in.getLong());
            // Planted or damaged bytes must not size an allocation or a loop: they are no index.
            boolean sane = index.parts >= 1 && index.parts <= MAX_PARTS && index.length >= index.parts
                    && (long) index.length <= (long) MAX_PARTS * PART_SIZE;
            return sane ? index : null;
        }

        /** @return the keys of this value's parts, in order */
        List<String> partKeys(String key) {
            List<String> keys = new ArrayList<>(parts);
            for (int i = 0; i < parts; i++) {
                keys.add(partKey(key, i));
            }
            return keys;
        }

        String partKey(String key, int i) {
            return key + ":part:" + String.format("%016x", generation) + ":" + i;
        }
    }

    private static long crc(byte[] value) {
        CRC32 crc = new CRC32();
        crc.update(value, 0, value.length);
        return crc.getValue();
    }

    /** Writes the parts of a large value. @return its index, to be stored under the key last */
    private byte[] writeParts(String nodeId, String key, byte[] value, int expiry) throws StoreException {
        int parts = (value.length + partSize - 1) / partSize;
        if (parts > MAX_PARTS) {
            throw StoreException.refused(nodeId, "a session of " + value.length + " bytes is more than msm stores ("
                    + MAX_PARTS + " parts of " + partSize + " bytes)", null);
        }
        Index index = new Index(ThreadLocalRandom.current().nextLong(), parts, value.length, crc(value));
        List<Sent> sent = new ArrayList<>(parts);
        for (int i = 0; i < parts; i++) {
            int from = i * partSize;
            byte[] part = java.util.Arrays.copyOfRange(value, from, Math.min(value.length, from + partSize));
            sent.add(items.send(nodeId, index.partKey(key, i), part, expiry));
        }
        for (Sent s : sent) {
            items.finish(s); // all sent first: one round trip of waiting
        }
        return index.encode();
    }

    /**
     * The parts of a value just replaced go in {@value #REPLACED_PARTS_SECONDS} s, not at once: a reader
     * that got the old index a moment ago still finds them and reads the old value whole.
     */
    private void expireSoon(String nodeId, String key, byte[] replacedIndex) {
        Index index = Index.decode(replacedIndex);
        if (index == null) {
            return;
        }
        try {
            for (String part : index.partKeys(key)) {
                items.touch(nodeId, part, REPLACED_PARTS_SECONDS);
            }
        } catch (StoreException e) {
            // The new value is stored; parts left over expire with their own time.
        }
    }

    private void deleteParts(String nodeId, String key, byte[] indexValue) throws StoreException {
        Index index = Index.decode(indexValue);
        if (index != null) {
            for (String part : index.partKeys(key)) {
                items.delete(nodeId, part);
            }
        }
    }

    /** @return the value itself, the whole value its index points to, or null when a part is missing */
    private byte[] assemble(String nodeId, String key, byte[] value) throws StoreException {
        Index index = Index.decode(value);
        if (index == null) {
            return value;
        }
        if (index.length > maxLength || index.parts != (index.length + partSize - 1) / partSize) {
            return null; // not what this store writes: as if the session were missing
        }
        List<String> keys = index.partKeys(key);
        Map<String, byte[]> found = items.getParts(nodeId, keys); // one key at a time under TLS: see SpymemcachedStore
        long total = 0;
        for (String k : keys) {
            byte[] part = found.get(k);
            if (part == null || part.length > partSize) {
                return null; // evicted, or not this store's part: as if the session were missing
            }
            total += part.length;
        }
        if (total != index.length) {
            return null; // not the parts of this value; and no index alone sizes an allocation
        }
        ByteBuffer whole = ByteBuffer.allocate(index.length);
        for (String k : keys) {
            whole.put(found.get(k));
        }
        byte[] bytes = whole.array();
        return crc(bytes) == index.crc ? bytes : null; // filled: the parts' lengths add up to it
    }

    @Override
    public boolean isConnected(String nodeId) {
        return items.isConnected(nodeId);
    }

    @Override
    public int clientGeneration(String nodeId) {
        return items.clientGeneration(nodeId);
    }

    @Override
    public String problemReportedBy(String nodeId) {
        return items.problemReportedBy(nodeId);
    }

    @Override
    public boolean answersOnNewConnection(String nodeId) {
        return items.answersOnNewConnection(nodeId);
    }

    @Override
    public boolean silentFor(String nodeId, long millis) {
        return items.silentFor(nodeId, millis);
    }

    @Override
    public void reconnect(String nodeId, long silentMillis) {
        items.reconnect(nodeId, silentMillis);
    }

    @Override
    public boolean replaceIfDead(String nodeId) {
        return items.replaceIfDead(nodeId);
    }

    @Override
    public NodeStatistics statistics(String nodeId) throws StoreException {
        return items.statistics(nodeId);
    }

    @Override
    public void awaitConnections(long maxMillis) throws InterruptedException {
        items.awaitConnections(maxMillis);
    }

    @Override
    public byte[] get(String nodeId, String key) throws StoreException {
        return assemble(nodeId, key, items.get(nodeId, key));
    }

    @Override
    public Asked ask(String nodeId, Collection<String> keys) throws StoreException {
        return items.ask(nodeId, keys); // markers: never stored in parts
    }

    @Override
    public Map<String, byte[]> getAll(String nodeId, Collection<String> keys) throws StoreException {
        Map<String, byte[]> found = items.getAll(nodeId, keys);
        Map<String, byte[]> whole = null;
        for (Map.Entry<String, byte[]> e : found.entrySet()) {
            if (Index.decode(e.getValue()) != null) {
                if (whole == null) {
                    whole = new HashMap<>(found);
                }
                byte[] value = assemble(nodeId, e.getKey(), e.getValue());
                if (value == null) {
                    whole.remove(e.getKey());
                } else {
                    whole.put(e.getKey(), value);
                }
            }
        }
        return whole == null ? found : whole;
    }

    @Override
    public Versioned gets(String nodeId, String key) throws StoreException {
        return assembled(nodeId, key, items.gets(nodeId, key));
    }

    private Versioned assembled(String nodeId, String key, Versioned v) throws StoreException {
        if (v == null || Index.decode(v.value) == null) {
            return v;
        }
        byte[] whole = assemble(nodeId, key, v.value);
        return whole == null ? null : new Versioned(whole, v.cas);
    }

    @Override
    public Pair getsWithCompanion(String nodeId, String versionedKey, String companionKey) throws StoreException {
        Pair p = items.getsWithCompanion(nodeId, versionedKey, companionKey);
        Versioned v = assembled(nodeId, versionedKey, p.versioned);
        return v == p.versioned ? p : new Pair(v, p.companion);
    }

    @Override
    public Sent send(String nodeId, String key, byte[] value, int expiry) throws StoreException {
        if (value.length <= partSize) {
            return items.send(nodeId, key, value, expiry);
        }
        byte[] replaced = items.get(nodeId, key);
        byte[] index = writeParts(nodeId, key, value, expiry);
        Sent sent = items.send(nodeId, key, index, expiry);
        return Index.decode(replaced) == null ? sent : new Replacing(sent, key, replaced);
    }

    @Override
    public void finish(Sent sent) throws StoreException {
        if (sent instanceof Replacing) {
            Replacing r = (Replacing) sent;
            items.finish(r.index);
            expireSoon(r.nodeId(), r.key, r.replaced);
        } else {
            items.finish(sent);
        }
    }

    /**
     * A large value's index on its way, and the index it replaces: once the new one is stored, the old
     * parts belong to nothing but reads already under way. Each write of a large session would
     * otherwise leave its parts behind until they expire, megabytes per write.
     */
    private static final class Replacing implements Sent {
        final Sent index;
        final String key;
        final byte[] replaced;

        Replacing(Sent index, String key, byte[] replaced) {
            this.index = index;
            this.key = key;
            this.replaced = replaced;
        }

        @Override
        public String nodeId() {
            return index.nodeId();
        }

        @Override
        public boolean awaitAnswer(long millis) {
            return index.awaitAnswer(millis);
        }
    }

    @Override
    public boolean add(String nodeId, String key, byte[] value, int expiry) throws StoreException {
        return addVersioned(nodeId, key, value, expiry) != null;
    }

    @Override
    public Long addVersioned(String nodeId, String key, byte[] value, int expiry) throws StoreException {
        if (value.length <= partSize) {
            return items.addVersioned(nodeId, key, value, expiry);
        }
        byte[] index = writeParts(nodeId, key, value, expiry);
        Long cas = items.addVersioned(nodeId, key, index, expiry);
        if (cas == null) {
            deleteParts(nodeId, key, index); // the key was there: these parts belong to nothing
        }
        return cas;
    }

    @Override
    public LockedRead addVersionedThenRead(String nodeId, String key, byte[] value, int expiry, String versionedKey,
            String companionKey) throws StoreException {
        if (value.length > partSize) {
            return SessionStore.super.addVersionedThenRead(nodeId, key, value, expiry, versionedKey, companionKey);
        }
        LockedRead r = items.addVersionedThenRead(nodeId, key, value, expiry, versionedKey, companionKey);
        if (r.read == null) {
            return r;
        }
        try {
            // A parted session's parts are read now, under the lock.
            Versioned v = assembled(nodeId, versionedKey, r.read.versioned);
            return v == r.read.versioned ? r : new LockedRead(r.lockCas, new Pair(v, r.read.companion));
        } catch (StoreException e) {
            return new LockedRead(r.lockCas, null);
        }
    }

    @Override
    public CasOutcome cas(String nodeId, String key, long cas, byte[] value, int expiry) throws StoreException {
        if (value.length <= partSize) {
            return items.cas(nodeId, key, cas, value, expiry);
        }
        byte[] replaced = items.get(nodeId, key);
        byte[] index = writeParts(nodeId, key, value, expiry);
        CasOutcome outcome;
        try {
            outcome = items.cas(nodeId, key, cas, index, expiry);
        } catch (StoreException e) {
            if (e.isRefused()) {
                deleteParts(nodeId, key, index); // a full node keeps no parts that no index names
            }
            throw e;
        }
        if (outcome == CasOutcome.STORED) {
            expireSoon(nodeId, key, replaced); // the version the token names, which the read above saw
        } else {
            deleteParts(nodeId, key, index); // the loser's: nobody ever read them
        }
        return outcome;
    }

    /** Pushes the expiry of the parts forward too, or they would vanish before their index. */
    @Override
    public boolean touch(String nodeId, String key, int expiry) throws StoreException {
        byte[] value = items.get(nodeId, key);
        Index index = Index.decode(value);
        if (index != null) {
            for (String part : index.partKeys(key)) {
                if (!items.touch(nodeId, part, expiry)) {
                    return false; // a part is gone: the value is, too
                }
            }
        }
        return value != null && items.touch(nodeId, key, expiry);
    }

    @Override
    public boolean delete(String nodeId, String key) throws StoreException {
        byte[] value = items.get(nodeId, key);
        boolean deleted = items.delete(nodeId, key);
        deleteParts(nodeId, key, value);
        return deleted;
    }

    @Override
    public boolean deleteIfUnchanged(String nodeId, String key, long cas) throws StoreException {
        return items.deleteIfUnchanged(nodeId, key, cas);
    }

    @Override
    public void deleteIfUnchangedLater(String nodeId, String key, long cas, Consumer<StoreException> failed) {
        items.deleteIfUnchangedLater(nodeId, key, cas, failed);
    }

    @Override
    public void close() {
        items.close();
    }
}
