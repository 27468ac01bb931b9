package io.msm.serializers;

import java.lang.reflect.Field;
import java.util.Arrays;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * {@link HashCost} over live objects: what a key reaches right now, through the elements, entries,
 * array slots and fields that {@link HashShapes} says hashCode() may visit.
 */
final class ObjectHashCost extends HashCost {
    private final IdentityHashMap<Object, Integer> ids = new IdentityHashMap<>();
    private Object[] objects = new Object[16];
    private long leaves;

    /** @return the cost of hashing {@code key}, or a number above {@code budget} */
    long cost(Object key, long budget, long loopCharged) {
        reset();
        ids.clear();
        node(key);
        try {
            return cost(budget, loopCharged);
        } finally {
            Arrays.fill(objects, null); // let go of the session's objects
            ids.clear();
        }
    }

    private int node(Object o) {
        int id = addNode();
        if (id == objects.length) {
            objects = Arrays.copyOf(objects, id * 2);
        }
        objects[id] = o;
        ids.put(o, id);
        return id;
    }

    @Override
    protected long expand(int node) {
        Object o = objects[node];
        int shape = HashShapes.shape(o.getClass());
        leaves = 0;
        try {
            if ((shape & HashShapes.ELEMENTS) != 0) {
                for (Object e : (Collection<?>) o) {
                    if (!child(e)) {
                        break;
                    }
                }
            }
            if ((shape & HashShapes.ENTRIES) != 0) {
                for (Map.Entry<?, ?> e : ((Map<?, ?>) o).entrySet()) {
                    if (!child(e.getKey()) || !child(e.getValue())) {
                        break;
                    }
                }
            }
            if ((shape & HashShapes.ENTRY) != 0) {
                Map.Entry<?, ?> e = (Map.Entry<?, ?>) o;
                child(e.getKey());
                child(e.getValue());
            }
            if ((shape & HashShapes.ARRAY) != 0) {
                for (Object e : (Object[]) o) {
                    if (!child(e)) {
                        break;
                    }
                }
            }
            if ((shape & HashShapes.FIELDS) != 0) {
                for (Field f : HashShapes.fields(o.getClass())) {
                    if (!child(f.get(o))) {
                        break;
                    }
                }
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            // what cannot be walked cannot be hashed either: its hashCode() fails the same way
        }
        return 1 + leaves;
    }

    /** @return false once the graph has outgrown the budget */
    private boolean child(Object c) {
        if (c == null) {
            return true;
        }
        if (HashShapes.shape(c.getClass()) == HashShapes.LEAF) {
            leaves++;
        } else {
            Integer id = ids.get(c);
            edgeTo(id != null ? id : node(c));
        }
        return !full();
    }
}
