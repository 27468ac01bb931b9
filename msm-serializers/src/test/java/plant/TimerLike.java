package plant;

/**
 * A stand-in whose binary name is as long as {@code java.util.Timer}'s: a test writes it with Kryo,
 * then puts the JDK's name in its place, as an attacker writing into memcached would.
 */
public class TimerLike {
    public int queue = 1;
}
