<?php

use Illuminate\Database\Migrations\Migration;
use Illuminate\Database\Schema\Blueprint;
use Illuminate\Support\Facades\Schema;

// Evolution CMS 3's role_permissions, with its columns and types
// (install/stubs/migrations/2018_06_29_182342_create_role_permissions_table.php).
return new class extends Migration
{
    public function up(): void
    {
        Schema::create('role_permissions', function (Blueprint $table) {
            $table->integer('id', true);
            $table->string('permission');
            $table->integer('role_id');
            $table->timestamps();
        });
    }

    public function down(): void
    {
        Schema::drop('role_permissions');
    }
};
