package ai.mvar.train.data;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An ImageNet-layout folder: one subfolder per class, class indices in sorted name order (as
 * torchvision's {@code DatasetFolder}), JPEG and PNG files read with {@code javax.imageio} and
 * passed through the {@link ReferenceTransform}.
 *
 * <p>A file that cannot be decoded is skipped: it is logged once, counted in {@link
 * #unreadableCount()}, and the next readable image (with its own label) is returned in its place,
 * so a batch always has its full size.
 */
public final class ImageFolderDataset implements ImageDataset {
    private static final Logger LOG = LoggerFactory.getLogger(ImageFolderDataset.class);
    private static final Set<String> EXTENSIONS = Set.of("jpg", "jpeg", "png");

    private final Path root;
    private final List<String> classNames;
    private final List<Path> files;
    private final int[] labels;
    private final boolean[] unreadable;
    private final AtomicInteger unreadableCount = new AtomicInteger();
    private final ReferenceTransform transform;

    private ImageFolderDataset(Path root, List<String> classNames, List<Path> files, int[] labels, int imageSize) {
        this.root = root;
        this.classNames = Collections.unmodifiableList(classNames);
        this.files = files;
        this.labels = labels;
        this.unreadable = new boolean[files.size()];
        this.transform = new ReferenceTransform(imageSize);
    }

    /** Scans {@code root} (for example {@code imagenet/train}) for class folders and their images. */
    public static ImageFolderDataset scan(Path root, int imageSize) throws IOException {
        if (!Files.isDirectory(root)) {
            throw new IOException("image folder " + root + " does not exist or is not a directory");
        }
        List<Path> classDirs = new ArrayList<>();
        try (Stream<Path> s = Files.list(root)) {
            s.filter(Files::isDirectory).forEach(classDirs::add);
        }
        classDirs.sort(null);
        List<String> names = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (Path dir : classDirs) {
            int label = names.size();
            names.add(dir.getFileName().toString());
            List<Path> images = new ArrayList<>();
            try (Stream<Path> s = Files.walk(dir)) {
                s.filter(Files::isRegularFile).filter(ImageFolderDataset::isImageName).forEach(images::add);
            }
            images.sort(null);
            for (Path p : images) {
                files.add(p);
                labels.add(label);
            }
        }
        if (files.isEmpty()) {
            throw new IOException("no JPEG or PNG images in class folders under " + root);
        }
        LOG.info("{}: {} images in {} classes", root, files.size(), names.size());
        return new ImageFolderDataset(root, names, files, labels.stream().mapToInt(Integer::intValue).toArray(), imageSize);
    }

    private static boolean isImageName(Path p) {
        String name = p.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot > 0 && EXTENSIONS.contains(name.substring(dot + 1).toLowerCase(Locale.ROOT));
    }

    public Path root() {
        return root;
    }

    @Override
    public int size() {
        return files.size();
    }

    @Override
    public int imageSize() {
        return transform.finalSize();
    }

    @Override
    public List<String> classNames() {
        return classNames;
    }

    /** Path of image {@code index}. */
    public Path file(int index) {
        return files.get(index);
    }

    /** Label of image {@code index}, without decoding it. */
    public int label(int index) {
        return labels[index];
    }

    /** How many files turned out not to be decodable so far. */
    public int unreadableCount() {
        return unreadableCount.get();
    }

    @Override
    public Sample sample(int index, Augment augment) {
        for (int tried = 0; tried < files.size(); tried++) {
            int i = (index + tried) % files.size();
            BufferedImage image = unreadable[i] ? null : read(i);
            if (image != null) {
                return new Sample(transform.apply(image, augment), labels[i]);
            }
        }
        throw new UncheckedIOException(new IOException("no image under " + root + " can be decoded"));
    }

    private BufferedImage read(int index) {
        Path file = files.get(index);
        try {
            BufferedImage image = ImageIO.read(file.toFile());
            if (image != null) {
                return image;
            }
            markUnreadable(index, "no image reader accepts it");
        } catch (IOException | RuntimeException e) {
            markUnreadable(index, e.toString());
        }
        return null;
    }

    private synchronized void markUnreadable(int index, String why) {
        if (!unreadable[index]) {
            unreadable[index] = true;
            int n = unreadableCount.incrementAndGet();
            LOG.warn("skipping unreadable image {} ({}); {} skipped so far", files.get(index), why, n);
        }
    }
}
