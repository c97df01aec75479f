<?php

namespace EvolutionCMS\Console;

use Illuminate\Console\Command;
use Illuminate\Support\ServiceProvider;

/** vendor:publish --tag=X: copies what providers published under that tag (files and folders). */
class VendorPublishCommand extends Command
{
    protected $signature = 'vendor:publish {--tag=* : tags to publish} {--force : overwrite}';

    protected $description = 'Publish the files of a package';

    public function handle(): int
    {
        foreach ((array) $this->option('tag') as $tag) {
            foreach (ServiceProvider::pathsToPublish(null, $tag) as $from => $to) {
                if (is_dir($from)) {
                    foreach (new \RecursiveIteratorIterator(new \RecursiveDirectoryIterator($from, \FilesystemIterator::SKIP_DOTS)) as $file) {
                        $target = $to . substr($file->getPathname(), strlen($from));
                        $this->copy($file->getPathname(), $target);
                    }
                } else {
                    $this->copy($from, $to);
                }
                $this->line("Copied [{$from}] To [{$to}]");
            }
        }
        $this->info('Publishing complete.');

        return 0;
    }

    private function copy(string $from, string $to): void
    {
        if (is_file($to) && !$this->option('force')) {
            return;
        }
        if (!is_dir(dirname($to))) {
            mkdir(dirname($to), 0755, true);
        }
        copy($from, $to);
    }
}
