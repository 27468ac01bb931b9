package io.msm.serializers;

import java.io.StreamCorruptedException;
import java.io.UTFDataFormatException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the structure of one Java serialization stream before the JDK does, creating none of its
 * objects and running none of their code, to refuse bytes whose rebuilding would cost unbounded CPU
 * (see {@link DecodeGuard}). It follows the grammar of the Java Object Serialization
 * Specification (chapter 6): every class description, object, array, string, enum and back
 * reference, each object's field values and the data its writeObject wrote, and mirrors the order
 * in which the JDK links what it reads: an object's field values are set once all of its fields of
 * one class are read, the elements of an array and what a readObject method reads are linked as
 * each is read (earlier, never later, than the JDK does: the graph seen here holds at least the
 * edges that exist when the JDK hashes a key).
 *
 * <p>At the end of each object whose class rebuilds a hash-based collection (HashMap, HashSet,
 * Hashtable and their subclasses, ConcurrentHashMap, the immutable sets and maps of Set.of and
 * Map.of) or has a readObject, readResolve or readExternal method of its own, the keys and elements
 * it is about to hash are costed ({@link HashCost}) and charged. Class names go through the
 * serialFilter as they appear, before any class is loaded; a class is loaded (not initialized) only
 * to see whether it overrides hashCode() and reads itself.
 *
 * <p>Bytes this reader does not understand throw {@link StreamCorruptedException}: the JDK would
 * fail on them too (the attribute is dropped). Externalizable data written with the old protocol 1
 * is such a case; ObjectOutputStream writes protocol 2.
 *
 * <p>Longer than 400 lines because the grammar is one recursive descent over one handle table;
 * split, every piece would need the whole table and the reading position.
 */
final class StreamScan {
    private static final int BASE_HANDLE = 0x7e0000;
    private static final byte HANDLE_LEAF = 0;
    private static final byte HANDLE_NODE = 1;
    private static final byte HANDLE_DESC = 2;
    /** {@link #readContent}: a null. */
    private static final int NULL = -1;
    /** {@link #readContent}: an object hashing cannot go into (string, enum, class, primitive array...). */
    private static final int LEAF = -2;
    private static final int HASH_NONE = 0;
    private static final int HASH_ALL = 1;
    private static final int HASH_KEYS = 2;
    private static final int HASH_BY_TAG = 3;
    /** The JDK classes whose readObject rehashes what it reads, and what: all elements or the keys of pairs. */
    private static final Map<String, Integer> JDK_HASHING = new HashMap<>();
    private static final int MAX_CHAIN = 256;
    private static final int[] NO_INTS = {};
    private static final long[] NO_LONGS = {};
    /** Second readings of a class's data a stream may take (see {@link #readLevel}). */
    private static final int MAX_RETRIES = 4096;

    static {
        JDK_HASHING.put("java.util.HashSet", HASH_ALL);
        JDK_HASHING.put("java.util.HashMap", HASH_KEYS);
        JDK_HASHING.put("java.util.Hashtable", HASH_KEYS);
        JDK_HASHING.put("java.util.concurrent.ConcurrentHashMap", HASH_KEYS);
        JDK_HASHING.put("java.util.CollSer", HASH_BY_TAG);
    }

    private final JavaSerialization java;
    private final SerialFilter filter;
    private final DecodeGuard guard;
    private final byte[] buf;
    private int pos;
    private final int end;
    /** Recursion of this reader, bounded so that no stream can overflow its stack. */
    private int nesting;
    private int retries;

    private byte[] handleKind = new byte[16];
    private int[] handleValue = new int[16];
    private int handles;

    private final List<Desc> descs = new ArrayList<>();

    // The graph: nodes are objects and object arrays that hashing may go through.
    private int nodes;
    private long[] nodeOwn = NO_LONGS;
    private int[] edgeHead = NO_INTS;
    private int[] edgeTarget = NO_INTS;
    private int[] edgeNext = NO_INTS;
    /** The values of the object fields being read, as a stack. */
    private int[] values = NO_INTS;
    private int valueCount;
    private int edgeCount;
    private NodeCost costs;

    StreamScan(JavaSerialization java, DecodeGuard guard, byte[] buf, int offset, int length) {
        this.java = java;
        this.filter = guard.filter();
        this.guard = guard;
        this.buf = buf;
        this.pos = offset;
        this.end = offset + length;
    }

    /** One class description of the stream. */
    private static final class Desc {
        String name;
        int flags;
        int primBytes;
        int objFields;
        /** Offset of CollSer's int field "tag" in the primitive data, or -1. */
        int tagOffset = -1;
        boolean proxy;
        Desc superDesc;
        // What objects of this class do, worked out when the first one is read.
        Desc[] levels;
        boolean[] follows;
        int[] hashing;
        boolean leaf;
    }

    /**
     * Reads the stream's one object. A block that starts with a reset (see JavaSerialization.BlockWriter)
     * has no stream header.
     */
    void run() throws StreamCorruptedException {
        readHeader();
        readTopLevel();
    }

    /**
     * Reads every object of a stream that one ObjectOutputStream wrote several objects to, sharing
     * one handle table, as memcached-session-manager 2.3.2 wrote a session's attributes.
     */
    void runAll() throws StreamCorruptedException {
        readHeader();
        while (pos < end) {
            readTopLevel();
        }
    }

    private void readHeader() throws StreamCorruptedException {
        if (end - pos >= 4 && u8(pos) == 0xac && u8(pos + 1) == 0xed) {
            pos += 2;
            if (readShort() != 5) {
                throw corrupt("stream version is not 5");
            }
        }
    }

    private void readTopLevel() throws StreamCorruptedException {
        while (peek() == 0x79) { // TC_RESET, allowed between top-level objects only
            pos++;
            handles = 0;
        }
        readContent(0);
    }

    // ---- contents ----

    /** @return a node, {@link #NULL} or {@link #LEAF} */
    private int readContent(int depth) throws StreamCorruptedException {
        if (++nesting > 2L * filter.maxDepth() + 64) {
            throw deeper();
        }
        try {
            guard.countRefs(1);
            int tc = peek();
            switch (tc) {
                case 0x70: // TC_NULL
                    pos++;
                    return NULL;
                case 0x71: { // TC_REFERENCE
                    checkDepth(depth + 1);
                    pos++;
                    int h = readInt() - BASE_HANDLE;
                    if (h < 0 || h >= handles) {
                        throw corrupt("invalid handle");
                    }
                    return handleKind[h] == HANDLE_NODE ? handleValue[h] : LEAF;
                }
                case 0x76: // TC_CLASS
                    checkDepth(depth + 1);
                    pos++;
                    readClassDesc(depth + 1);
                    newHandle(HANDLE_LEAF, 0);
                    return LEAF;
                case 0x72: // TC_CLASSDESC
                case 0x7d: // TC_PROXYCLASSDESC
                    readClassDesc(depth + 1);
                    return LEAF;
                case 0x74: // TC_STRING
                    pos++;
                    newHandle(HANDLE_LEAF, 0);
                    skip(readShort());
                    return LEAF;
                case 0x7c: // TC_LONGSTRING
                    pos++;
                    newHandle(HANDLE_LEAF, 0);
                    skip(readLong());
                    return LEAF;
                case 0x75: // TC_ARRAY
                    return readArray(depth + 1);
                case 0x7e: // TC_ENUM
                    checkDepth(depth + 1);
                    pos++;
                    if (readClassDesc(depth + 1) == null) {
                        throw corrupt("enum without class");
                    }
                    newHandle(HANDLE_LEAF, 0);
                    readString();
                    return LEAF;
                case 0x73: // TC_OBJECT
                    return readObject(depth + 1);
                case 0x7b: // TC_EXCEPTION
                    throw corrupt("the writer failed and wrote its exception");
                default:
                    throw corrupt("invalid type code " + Integer.toHexString(tc));
            }
        } finally {
            nesting--;
        }
    }

    private void checkDepth(int depth) {
        if (depth > filter.maxDepth()) {
            throw deeper();
        }
    }

    private RejectedContentException deeper() {
        return RejectedContentException.limit("object graph deeper than " + SerialFilter.ATTRIBUTE + " maxdepth="
                + filter.maxDepth());
    }

    /** A string where only a new string may stand (an enum's constant name). */
    private void readString() throws StreamCorruptedException {
        if (!skipNewString(readByte())) {
            throw corrupt("string expected");
        }
    }

    /** @return true when {@code tc} starts a new string (short or long), which is then skipped */
    private boolean skipNewString(int tc) throws StreamCorruptedException {
        if (tc == 0x74) {
            newHandle(HANDLE_LEAF, 0);
            skip(readShort());
            return true;
        }
        if (tc == 0x7c) {
            newHandle(HANDLE_LEAF, 0);
            skip(readLong());
            return true;
        }
        return false;
    }

    private int readArray(int depth) throws StreamCorruptedException {
        checkDepth(depth);
        pos++;
        Desc desc = readClassDesc(depth);
        if (desc == null || desc.name == null || !desc.name.startsWith("[") || desc.name.length() < 2) {
            throw corrupt("array without array class");
        }
        int length = readInt();
        if (length < 0) {
            throw corrupt("negative array length");
        }
        if (length > filter.maxArray()) {
            throw RejectedContentException.limit("an array of " + length + " elements exceeds "
                    + SerialFilter.ATTRIBUTE + " maxarray=" + filter.maxArray());
        }
        int width = primitiveWidth(desc.name.charAt(1));
        if (width > 0) {
            newHandle(HANDLE_LEAF, 0);
            skip((long) length * width);
            return LEAF;
        }
        if (length > end - pos) {
            throw corrupt("array longer than the stream");
        }
        int node = newNode();
        newHandle(HANDLE_NODE, node);
        for (int i = 0; i < length; i++) {
            link(node, readContent(depth));
        }
        return node;
    }

    private int readObject(int depth) throws StreamCorruptedException {
        checkDepth(depth);
        pos++;
        Desc desc = readClassDesc(depth);
        if (desc == null) {
            throw corrupt("object without class");
        }
        if (desc.name != null && (desc.name.startsWith("[") || desc.name.equals("java.lang.String")
                || desc.name.equals("java.lang.Class") || desc.name.equals("java.io.ObjectStreamClass"))) {
            throw corrupt("invalid class for an object: " + desc.name);
        }
        plan(desc);
        int node = desc.leaf ? LEAF : newNode();
        newHandle(node == LEAF ? HANDLE_LEAF : HANDLE_NODE, node);
        List<Integer> hashed = null;
        if ((desc.flags & 0x04) != 0) { // SC_EXTERNALIZABLE
            if ((desc.flags & 0x08) == 0) { // SC_BLOCK_DATA
                throw corrupt("externalizable data of protocol 1 (" + desc.name + ")");
            }
            int mode = desc.hashing[desc.hashing.length - 1];
            hashed = readAnnotation(depth, desc.follows[desc.follows.length - 1] ? node : LEAF, mode, -1, hashed);
        } else {
            for (int l = 0; l < desc.levels.length; l++) {
                Desc level = desc.levels[l];
                int linkTo = desc.follows[l] ? node : LEAF;
                hashed = readLevel(depth, level, linkTo, desc.hashing[l], hashed);
            }
        }
        if (hashed != null) {
            for (int key : hashed) {
                charge(key, desc.name);
            }
        }
        return node;
    }

    /**
     * The data one class of an object wrote: its field values, then, if it has a writeObject
     * method, what that wrote. A writeObject of the JDK always writes the field values first
     * (defaultWriteObject or writeFields), as the specification requires; one of a webapp or
     * library sometimes does not, and its readObject then does not read them either. For those the
     * values are tried first and, if the bytes cannot be such values, the data is read without them.
     * Only bytes that do not parse lead to the second reading, never a limit: bytes a compliant
     * reader would find too costly stay refused.
     */
    private List<Integer> readLevel(int depth, Desc level, int linkTo, int mode, List<Integer> hashed)
            throws StreamCorruptedException {
        boolean writeMethod = (level.flags & 0x01) != 0;
        boolean hasFields = level.primBytes > 0 || level.objFields > 0;
        if (!writeMethod || !hasFields || level.name == null || HashShapes.isJdk(level.name)) {
            return readFields(depth, level, linkTo, mode, writeMethod, true, hashed);
        }
        int next = peek();
        if (level.primBytes == 0 && (next == 0x77 || next == 0x78 || next == 0x7a)) {
            return readFields(depth, level, linkTo, mode, true, false, hashed); // no object value starts so
        }
        Mark mark = new Mark(linkTo);
        try {
            return readFields(depth, level, linkTo, mode, true, true, hashed == null ? null : new ArrayList<>(hashed));
        } catch (StreamCorruptedException e) {
            if (++retries > MAX_RETRIES) {
                throw e;
            }
            mark.restore();
            return readFields(depth, level, linkTo, mode, true, false, hashed);
        }
    }

    private List<Integer> readFields(int depth, Desc level, int linkTo, int mode, boolean writeMethod,
            boolean withValues, List<Integer> hashed) throws StreamCorruptedException {
        List<Integer> keys = hashed;
        int tag = -1;
        if (withValues) {
            if (level.tagOffset >= 0 && level.tagOffset + 4 <= level.primBytes) {
                need(level.primBytes);
                tag = readIntAt(pos + level.tagOffset) & 0xff;
            }
            skip(level.primBytes);
            int first = valueCount;
            for (int f = 0; f < level.objFields; f++) {
                int value = readContent(depth);
                if (valueCount == values.length) {
                    values = Arrays.copyOf(values, Math.max(16, valueCount * 2));
                }
                values[valueCount++] = value;
            }
            for (int v = first; v < valueCount; v++) { // set together, once the class's fields are read
                link(linkTo, values[v]);
                if (mode == HASH_ALL) {
                    keys = add(keys, values[v]);
                }
            }
            valueCount = first;
        }
        if (writeMethod) {
            keys = readAnnotation(depth, linkTo, mode, tag, keys);
        }
        return keys;
    }

    /** Where the reading was, to read a class's data a second way. */
    private final class Mark {
        final int at = pos;
        final int handleCount = handles;
        final int descCount = descs.size();
        final int nodeCount = nodes;
        final int edges = edgeCount;
        final int nestingAt = nesting;
        final int valuesAt = valueCount;
        final int node;
        final long own;
        final int head;
        final long[] spent = guard.mark();

        Mark(int node) {
            this.node = node;
            this.own = node >= 0 ? nodeOwn[node] : 0;
            this.head = node >= 0 ? edgeHead[node] : 0;
        }

        void restore() {
            pos = at;
            handles = handleCount;
            while (descs.size() > descCount) {
                descs.remove(descs.size() - 1);
            }
            nodes = nodeCount;
            edgeCount = edges;
            nesting = nestingAt;
            valueCount = valuesAt;
            if (node >= 0) {
                nodeOwn[node] = own;
                edgeHead[node] = head;
            }
            guard.restore(spent);
        }
    }

    private static List<Integer> add(List<Integer> list, int value) {
        List<Integer> l = list == null ? new ArrayList<Integer>() : list;
        l.add(value);
        return l;
    }

    /**
     * What a writeObject or writeExternal wrote: block data and objects up to TC_ENDBLOCKDATA.
     *
     * @param linkTo the node the objects are linked to, or {@link #LEAF} when hashing does not go through them
     * @param mode which of them are hashed
     * @param tag CollSer's tag (1 list, 2 set, 3 map), when mode is {@link #HASH_BY_TAG}
     */
    private List<Integer> readAnnotation(int depth, int linkTo, int mode, int tag, List<Integer> hashed)
            throws StreamCorruptedException {
        int effective = mode == HASH_BY_TAG ? (tag == 2 ? HASH_ALL : tag == 3 ? HASH_KEYS : HASH_NONE) : mode;
        int index = 0;
        List<Integer> keys = hashed;
        while (true) {
            int tc = peek();
            if (tc == 0x78) { // TC_ENDBLOCKDATA
                pos++;
                return keys;
            }
            if (tc == 0x77) { // TC_BLOCKDATA
                pos++;
                skip(readByte());
            } else if (tc == 0x7a) { // TC_BLOCKDATALONG
                pos++;
                int length = readInt();
                if (length < 0) {
                    throw corrupt("negative block length");
                }
                skip(length);
            } else {
                int value = readContent(depth);
                link(linkTo, value);
                if (effective == HASH_ALL || effective == HASH_KEYS && (index & 1) == 0) {
                    keys = add(keys, value);
                }
                index++;
            }
        }
    }

    // ---- class descriptions ----

    private Desc readClassDesc(int depth) throws StreamCorruptedException {
        if (++nesting > 2L * filter.maxDepth() + 64) {
            throw deeper();
        }
        try {
            int tc = readByte();
            switch (tc) {
                case 0x70: // TC_NULL
                    return null;
                case 0x71: { // TC_REFERENCE
                    int h = readInt() - BASE_HANDLE;
                    if (h < 0 || h >= handles || handleKind[h] != HANDLE_DESC) {
                        throw corrupt("invalid class handle");
                    }
                    return descs.get(handleValue[h]);
                }
                case 0x72: // TC_CLASSDESC
                    return readNonProxyDesc(depth);
                case 0x7d: // TC_PROXYCLASSDESC
                    return readProxyDesc(depth);
                default:
                    throw corrupt("invalid class description");
            }
        } finally {
            nesting--;
        }
    }

    private Desc readNonProxyDesc(int depth) throws StreamCorruptedException {
        guard.countRefs(1);
        Desc desc = new Desc();
        newHandle(HANDLE_DESC, descs.size());
        descs.add(desc);
        desc.name = readUtf();
        skip(8); // serialVersionUID
        desc.flags = readByte();
        int count = readShort();
        boolean collSer = desc.name.equals("java.util.CollSer");
        boolean objects = false;
        for (int i = 0; i < count; i++) {
            int type = readByte();
            int width = primitiveWidth((char) type);
            if (collSer && type == 'I') {
                int nameStart = pos;
                String field = readUtf();
                if (field.equals("tag")) {
                    desc.tagOffset = desc.primBytes;
                }
                pos = nameStart;
            }
            skip(readShort()); // field name
            if (width > 0) {
                if (objects) {
                    throw corrupt("primitive field after object fields in " + desc.name);
                }
                desc.primBytes += width;
            } else if (type == 'L' || type == '[') {
                objects = true;
                desc.objFields++;
                readTypeString();
            } else {
                throw corrupt("invalid field type in " + desc.name);
            }
        }
        filter.check(desc.name); // before anything of it is loaded, as JavaSerialization.resolveClass does
        readAnnotation(depth, LEAF, HASH_NONE, -1, null);
        desc.superDesc = readClassDesc(depth);
        return desc;
    }

    private Desc readProxyDesc(int depth) throws StreamCorruptedException {
        guard.countRefs(1);
        Desc desc = new Desc();
        newHandle(HANDLE_DESC, descs.size());
        descs.add(desc);
        desc.proxy = true;
        desc.flags = 0x02; // SC_SERIALIZABLE
        int count = readInt();
        if (count < 0 || count > 65535) {
            throw corrupt("invalid number of proxy interfaces");
        }
        filter.check(Proxy.class.getName());
        for (int i = 0; i < count; i++) {
            filter.check(readUtf());
        }
        readAnnotation(depth, LEAF, HASH_NONE, -1, null);
        desc.superDesc = readClassDesc(depth);
        return desc;
    }

    /** The class name of an object field: a new string or a reference to one. */
    private void readTypeString() throws StreamCorruptedException {
        int tc = readByte();
        if (skipNewString(tc)) {
            return;
        }
        if (tc == 0x71) {
            int h = readInt() - BASE_HANDLE;
            if (h < 0 || h >= handles) {
                throw corrupt("invalid handle");
            }
        } else if (tc != 0x70) {
            throw corrupt("invalid field class name");
        }
    }

    /** Works out, once per description, how each of its classes links and hashes what it reads. */
    private void plan(Desc desc) throws StreamCorruptedException {
        if (desc.levels != null) {
            return;
        }
        List<Desc> chain = new ArrayList<>();
        for (Desc d = desc; d != null; d = d.superDesc) {
            if (chain.size() == MAX_CHAIN || chain.contains(d)) {
                throw corrupt("class hierarchy too deep or circular");
            }
            chain.add(d);
        }
        int n = chain.size();
        desc.levels = new Desc[n];
        desc.follows = new boolean[n];
        desc.hashing = new int[n];
        boolean own = desc.proxy || desc.name != null && !HashShapes.isJdk(desc.name);
        int info = own && !desc.proxy ? java.classInfo(desc.name) : 0;
        // A class of the webapp or a library is followed unless it keeps Object's identity hash.
        boolean ownFollows = desc.proxy || (info & HashShapes.FOUND) == 0 || (info & HashShapes.OVERRIDES_HASH_CODE) != 0;
        // One that reads itself may rehash anything it reads (a readObject that fills a map, a readResolve).
        boolean ownReads = own && ((info & HashShapes.FOUND) == 0 || (info & HashShapes.READ_METHODS) != 0
                || (desc.flags & 0x04) != 0);
        boolean leaf = true;
        for (int i = 0; i < n; i++) {
            Desc level = chain.get(n - 1 - i);
            desc.levels[i] = level;
            boolean jdkLevel = level.name != null && HashShapes.isJdk(level.name);
            desc.follows[i] = jdkLevel ? level.name.startsWith("java.util.") : ownFollows;
            Integer mode = jdkLevel ? JDK_HASHING.get(level.name) : null;
            desc.hashing[i] = ownReads ? HASH_ALL : mode == null ? HASH_NONE : mode;
            leaf &= !desc.follows[i];
        }
        desc.leaf = leaf;
    }

    // ---- the graph ----

    private int newNode() {
        if (nodes == nodeOwn.length) {
            nodeOwn = Arrays.copyOf(nodeOwn, Math.max(16, nodes * 2));
            edgeHead = Arrays.copyOf(edgeHead, Math.max(16, nodes * 2));
        }
        nodeOwn[nodes] = 1;
        edgeHead[nodes] = -1;
        return nodes++;
    }

    /** Links {@code value}, as read, to {@code node}, if hashing {@code node} goes through what it holds. */
    private void link(int node, int value) {
        if (node < 0 || value == NULL) {
            return;
        }
        if (value == LEAF) {
            nodeOwn[node]++;
            return;
        }
        if (edgeCount == edgeTarget.length) {
            edgeTarget = Arrays.copyOf(edgeTarget, Math.max(32, edgeCount * 2));
            edgeNext = Arrays.copyOf(edgeNext, Math.max(32, edgeCount * 2));
        }
        edgeTarget[edgeCount] = value;
        edgeNext[edgeCount] = edgeHead[node];
        edgeHead[node] = edgeCount++;
    }

    private void charge(int key, String container) {
        if (key == NULL) {
            return;
        }
        if (key == LEAF) {
            guard.chargeLeaf();
            return;
        }
        if (costs == null) {
            costs = new NodeCost();
        }
        long cost = costs.cost(key, guard.keyBudget(), guard.loopCharged());
        guard.chargeHash(cost, costs, container == null ? "proxy" : container);
    }

    /** {@link HashCost} over the graph read so far. */
    private final class NodeCost extends HashCost {
        private int[] local = new int[0];
        private int[] stamp = new int[0];
        private int[] global = new int[16];
        private int walk;

        long cost(int key, long budget, long loopCharged) {
            if (local.length < nodes) {
                local = Arrays.copyOf(local, nodeOwn.length);
                stamp = Arrays.copyOf(stamp, nodeOwn.length);
            }
            walk++;
            reset();
            localId(key);
            return cost(budget, loopCharged);
        }

        private int localId(int node) {
            if (stamp[node] == walk) {
                return local[node];
            }
            int id = addNode();
            if (id == global.length) {
                global = Arrays.copyOf(global, id * 2);
            }
            global[id] = node;
            stamp[node] = walk;
            local[node] = id;
            return id;
        }

        @Override
        protected long expand(int node) {
            int g = global[node];
            for (int e = edgeHead[g]; e >= 0; e = edgeNext[e]) {
                edgeTo(localId(edgeTarget[e]));
                if (full()) {
                    break;
                }
            }
            return nodeOwn[g];
        }
    }

    // ---- bytes ----

    private void newHandle(byte kind, int value) {
        if (handles == handleKind.length) {
            handleKind = Arrays.copyOf(handleKind, handles * 2);
            handleValue = Arrays.copyOf(handleValue, handles * 2);
        }
        handleKind[handles] = kind;
        handleValue[handles++] = value;
    }

    private static int primitiveWidth(char type) {
        switch (type) {
            case 'B':
            case 'Z':
                return 1;
            case 'C':
            case 'S':
                return 2;
            case 'I':
            case 'F':
                return 4;
            case 'J':
            case 'D':
                return 8;
            default:
                return 0;
        }
    }

    private int u8(int at) {
        return buf[at] & 0xff;
    }

    private void need(long n) throws StreamCorruptedException {
        if (n < 0 || n > end - pos) {
            throw corrupt("the stream ends early");
        }
    }

    private int peek() throws StreamCorruptedException {
        need(1);
        return u8(pos);
    }

    private int readByte() throws StreamCorruptedException {
        need(1);
        return u8(pos++);
    }

    private int readShort() throws StreamCorruptedException {
        need(2);
        int v = u8(pos) << 8 | u8(pos + 1);
        pos += 2;
        return v;
    }

    private int readInt() throws StreamCorruptedException {
        need(4);
        int v = readIntAt(pos);
        pos += 4;
        return v;
    }

    private int readIntAt(int at) {
        return u8(at) << 24 | u8(at + 1) << 16 | u8(at + 2) << 8 | u8(at + 3);
    }

    private long readLong() throws StreamCorruptedException {
        long high = readInt() & 0xffffffffL;
        return high << 32 | readInt() & 0xffffffffL;
    }

    private void skip(long n) throws StreamCorruptedException {
        need(n);
        pos += (int) n;
    }

    /** A modified UTF-8 string of two-byte length, as DataInput.readUTF reads it. */
    private String readUtf() throws StreamCorruptedException {
        int length = readShort();
        need(length);
        int start = pos;
        pos += length;
        boolean ascii = true;
        for (int i = start; i < start + length && ascii; i++) {
            ascii = buf[i] > 0;
        }
        if (ascii) {
            return new String(buf, start, length, StandardCharsets.ISO_8859_1);
        }
        char[] chars = new char[length];
        int count = 0;
        for (int i = start; i < start + length;) {
            int c = u8(i);
            if (c < 0x80) {
                chars[count++] = (char) c;
                i++;
            } else if ((c & 0xe0) == 0xc0 && i + 1 < start + length && (u8(i + 1) & 0xc0) == 0x80) {
                chars[count++] = (char) ((c & 0x1f) << 6 | u8(i + 1) & 0x3f);
                i += 2;
            } else if ((c & 0xf0) == 0xe0 && i + 2 < start + length && (u8(i + 1) & 0xc0) == 0x80
                    && (u8(i + 2) & 0xc0) == 0x80) {
                chars[count++] = (char) ((c & 0x0f) << 12 | (u8(i + 1) & 0x3f) << 6 | u8(i + 2) & 0x3f);
                i += 3;
            } else {
                StreamCorruptedException e = corrupt("malformed class name");
                e.initCause(new UTFDataFormatException());
                throw e;
            }
        }
        return new String(chars, 0, count);
    }

    private static StreamCorruptedException corrupt(String why) {
        return new StreamCorruptedException("msm's pre-read of the stream: " + why);
    }
}
