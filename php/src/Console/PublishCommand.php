<?php

declare(strict_types=1);

namespace Seiger\sTask\Console;

use Seiger\sTask\sTaskServiceProvider;

/** Publishes the alias file and the assets, and creates storage/stask. */
class PublishCommand extends StaskCommand
{
    protected $signature = 'stask:publish';

    protected $description = 'Publish sTask assets and the sTask alias (vendor:publish --tag=stask --force).';

    public function handle(): int
    {
        try {
            sTaskServiceProvider::ensureStorageDirectory(storage_path('stask'));
            $code = $this->call('vendor:publish', ['--tag' => ['stask'], '--force' => true]);
        } catch (\Symfony\Component\Console\Exception\CommandNotFoundException $e) {
            return $this->failWith('stask:publish: this application has no vendor:publish command.');
        } catch (\RuntimeException $e) {
            return $this->failWith('stask:publish: ' . $e->getMessage());
        }
        if ($code !== 0) {
            return $this->failWith('stask:publish: vendor:publish failed.');
        }
        $this->info('sTask assets published successfully!');

        return 0;
    }
}
