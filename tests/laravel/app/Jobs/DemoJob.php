<?php

namespace App\Jobs;

use Illuminate\Bus\Queueable;
use Illuminate\Contracts\Queue\ShouldQueue;
use Illuminate\Foundation\Bus\Dispatchable;
use Illuminate\Queue\InteractsWithQueue;
use Illuminate\Queue\SerializesModels;

/** Writes its marker to storage/demo-job.txt. */
class DemoJob implements ShouldQueue
{
    use Dispatchable, InteractsWithQueue, Queueable, SerializesModels;

    public function __construct(public string $marker)
    {
    }

    public function handle(): void
    {
        file_put_contents(storage_path('demo-job.txt'), $this->marker . "\n", FILE_APPEND | LOCK_EX);
    }
}
